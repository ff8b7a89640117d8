import os
import os.path as osp
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

# Tests build mmdet transforms and models by name, as configs do with default_scope='mmdet'.
from mmdet.utils import register_all_modules  # noqa: E402

register_all_modules(init_default_scope=True)


@pytest.fixture(scope='session')
def synthetic_release(tmp_path_factory):
    """A small synthetic HDA release with extracted frames: cameras 17, 19 (640x480), 50
    (1280x800), 6 frames each."""
    from hda_plugin.datasets.frames import extract_release
    from hda_plugin.datasets.synthetic_hda import make_synthetic_hda
    root = str(tmp_path_factory.mktemp('synthetic_hda'))
    make_synthetic_hda(root, [17, 19, 50], frames=6, seed=3, progress=False)
    extract_release(root, [17, 19, 50], progress=False)
    return root


@pytest.fixture
def repo_root():
    return ROOT


def run_env():
    """Environment for tool subprocesses: the repo on PYTHONPATH, CPU, few threads."""
    env = dict(os.environ)
    env['PYTHONPATH'] = ROOT + os.pathsep + env.get('PYTHONPATH', '')
    env.setdefault('OMP_NUM_THREADS', '2')
    env['PYTHON'] = sys.executable
    env['CUDA_VISIBLE_DEVICES'] = ''
    return env
