"""Config errors that name the file and the place."""
import pytest


def test_config_syntax_error_names_file_and_line(tmp_path):
    from hda_plugin.utils.config import ConfigSyntaxError, load_config
    base = tmp_path / 'base.py'
    base.write_text("model = dict(type='X'\n\nfoo = 1\n")
    child = tmp_path / 'child.py'
    child.write_text(f"_base_ = {str(base)!r}\n")
    with pytest.raises(ConfigSyntaxError, match=r'base\.py:1: invalid Python in the config'):
        load_config(str(base))
    with pytest.raises(ConfigSyntaxError, match=r'base\.py:1: .*\(a base of .*child\.py\)'):
        load_config(str(child))
