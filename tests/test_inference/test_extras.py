"""Optional extras: with a module missing, the feature that needs it says which extra to
install (and the rest works); the package layers import as the rules say."""
import ast
import glob
import os.path as osp
import sys

import numpy as np
import pytest
from conftest import DEMO_CFG, ROOT

from hda_plugin.utils.extras import EXTRAS, MissingExtraError, require


def _hide(monkeypatch, *modules):
    """Makes ``modules`` unimportable (``None`` in ``sys.modules``: import raises)."""
    for m in modules:
        for name in [n for n in sys.modules if n == m or n.startswith(m + '.')]:
            monkeypatch.setitem(sys.modules, name, None)
        monkeypatch.setitem(sys.modules, m, None)


def _check(err, extra, feature):
    msg = str(err.value)
    assert f"pip install 'hda-ssd[{extra}]'" in msg and feature in msg, msg
    assert isinstance(err.value, ImportError)


def test_require_names_the_feature_and_the_command(monkeypatch):
    assert require('json', 'video', 'x').dumps([]) == '[]'
    _hide(monkeypatch, 'av')
    with pytest.raises(MissingExtraError) as err:
        require('av', 'video', 'Writing videos')
    _check(err, 'video', 'Writing videos')
    assert "'av'" in str(err.value)
    with pytest.raises(ValueError, match='unknown extra'):
        require('av', 'videos', 'x')
    assert set(EXTRAS['infer']) == {'av', 'sahi', 'onnx', 'onnxscript', 'onnxruntime'}


def test_video_needs_the_video_extra(monkeypatch, tmp_path):
    from hda_plugin.fileio.video import VideoWriter
    from hda_plugin.inference.sources import open_inputs
    _hide(monkeypatch, 'av')
    mp4 = tmp_path / 'camera17.mp4'
    mp4.write_bytes(b'')
    with pytest.raises(MissingExtraError) as err:
        open_inputs([str(mp4)])
    _check(err, 'video', 'Reading video files')
    with pytest.raises(MissingExtraError) as err:
        VideoWriter(str(tmp_path / 'out.mp4'), 5.0)
    _check(err, 'video', '--video')
    assert sorted(p.name for p in tmp_path.iterdir()) == ['camera17.mp4']  # nothing staged


def test_tiles_need_the_tile_extra_untiled_frames_do_not(monkeypatch):
    from hda_plugin.inference.tiling import plan_tiles
    _hide(monkeypatch, 'sahi')
    anchors = np.array([[20, 20], [14.14, 28.28]])
    resize = dict(type='Resize', scale=(512, 512), keep_ratio=False)
    assert not plan_tiles('off', (2560, 1600), (512, 512), resize, anchors, 0.5).tiled
    assert not plan_tiles('auto', (640, 480), (512, 512), resize, anchors, 0.5).tiled
    with pytest.raises(MissingExtraError) as err:
        plan_tiles('auto', (2560, 1600), (512, 512), resize, anchors, 0.5)
    _check(err, 'tile', '--tile')


def test_export_needs_the_deploy_extra(monkeypatch, tmp_path):
    from hda_plugin.deployment import export_onnx
    _hide(monkeypatch, 'onnx')
    with pytest.raises(MissingExtraError) as err:
        export_onnx(None, str(tmp_path / 'x.onnx'), (320, 224))
    _check(err, 'deploy', 'ONNX export')


def test_onnxruntime_backend_needs_the_deploy_extra(monkeypatch, tmp_path):
    from hda_plugin.inference.backends import build_backend
    from hda_plugin.utils.config import load_config
    _hide(monkeypatch, 'onnxruntime')
    with pytest.raises(MissingExtraError) as err:
        build_backend('onnxruntime', load_config(DEMO_CFG), str(tmp_path / 'x.onnx'))
    _check(err, 'deploy', '--backend onnxruntime')


def test_setup_cfg_extras_match_require():
    import configparser
    cfg = configparser.ConfigParser()
    cfg.read(osp.join(ROOT, 'setup.cfg'))
    req = cfg['options']['install_requires']
    extras = {k: {line.split('#')[0].strip() for line in v.splitlines()} - {''}
              for k, v in cfg['options.extras_require'].items()}
    for extra, modules in EXTRAS.items():
        assert set(modules) <= extras[extra], extra
        for m in modules:  # nobody who only trains installs them
            assert m not in {line.strip() for line in req.splitlines()}, m
    # make demo / make test / CI install what every test needs
    assert '[test,infer]' in open(osp.join(ROOT, 'tools', 'install_env.sh')).read()


def _imports(path):
    """Absolute names a module imports, relative imports resolved within hda_plugin."""
    pkg = osp.relpath(osp.dirname(path), ROOT).replace(osp.sep, '.')
    names = set()
    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = pkg.split('.')
            if node.level:
                base = base[:len(base) - node.level + 1]
                names.add('.'.join(base + ([node.module] if node.module else [])))
            else:
                names.add(node.module)
    return names


@pytest.mark.parametrize('layer,forbidden', [
    ('deployment', ('hda_plugin.inference', 'hda_plugin.evaluation', 'hda_plugin.engine')),
    ('inference', ('hda_plugin.evaluation', 'hda_plugin.engine')),
])
def test_layers_import_as_the_rules_say(layer, forbidden):
    for path in glob.glob(osp.join(ROOT, 'hda_plugin', layer, '*.py')):
        for name in _imports(path):
            assert not name.startswith(forbidden), f'{path} imports {name}'


def test_deployment_package_imports_no_onnx():
    init = osp.join(ROOT, 'hda_plugin', 'deployment', '__init__.py')
    for path in [init] + glob.glob(osp.join(ROOT, 'hda_plugin', 'deployment', '*.py')):
        tree = ast.parse(open(path).read())
        top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
        mods = {a.name for n in top if isinstance(n, ast.Import) for a in n.names} | \
            {n.module for n in top if isinstance(n, ast.ImportFrom) and n.module}
        assert not {m for m in mods if m.split('.')[0] in ('onnx', 'onnxruntime',
                                                           'onnxscript')}, path
