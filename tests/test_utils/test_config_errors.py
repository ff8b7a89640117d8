"""Config and checkpoint-table errors that name the file and the place."""
import numpy as np
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


def test_tf_index_that_parses_wrongly_despite_its_checksums(tmp_path):
    """A variable name that is not UTF-8, written with consistent block CRCs."""
    from tf_checkpoint_writer import write_tf_checkpoint

    from hda_plugin.fileio import TFCheckpointError, read_tf_checkpoint

    class BadName(str):
        def encode(self, *args, **kwargs):
            return b'vgg_16/\xff\xfe'

    prefix = str(tmp_path / 'vgg_16.ckpt')
    write_tf_checkpoint(prefix, {BadName('vgg_16/w'): np.ones(3, np.float32)})
    with pytest.raises(TFCheckpointError, match=r'vgg_16\.ckpt: the checkpoint does not parse '
                                                r'\(UnicodeDecodeError.*checksums agree'):
        read_tf_checkpoint(prefix)
