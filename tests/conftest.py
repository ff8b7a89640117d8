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

DEMO_CFG = osp.join(ROOT, 'configs', 'ssdlite_mobilenetv2-w0.5_1xb8-1150it_synthetic-hda-cpu.py')


@pytest.fixture(scope='session')
def synthetic_release(tmp_path_factory):
    """A small synthetic HDA release with extracted frames: cameras 17, 19 (640x480), 50
    (1280x800), 6 frames each."""
    from hda_plugin.datasets.frames import extract_release
    from hda_plugin.testing import make_synthetic_hda
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


def tiny_opts(root, iters, ckpt_interval=2):
    """--cfg-options shrinking the demo config to a few CPU iterations on ``root``.

    The warmup ends at iteration 1 with the learning rate still at its start factor
    (0.01x): these runs test plumbing, not learning."""
    return [
        f'train_dataloader.dataset.dataset.data_root={root}',
        'train_dataloader.dataset.dataset.cameras=[17,50]',
        'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        f'val_dataloader.dataset.data_root={root}', 'val_dataloader.dataset.cameras=[19]',
        'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False',
        f'test_dataloader.dataset.data_root={root}', 'test_dataloader.dataset.cameras=[19]',
        'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False',
        f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
        'param_scheduler.LinearLR.end=1', 'param_scheduler.CosineAnnealingLR.begin=1',
        f'param_scheduler.CosineAnnealingLR.end={iters}',
        f'default_hooks.checkpoint.interval={ckpt_interval}',
        'default_hooks.checkpoint.max_keep_ckpts=-1',
        'default_hooks.logger.interval=1',
    ]


@pytest.fixture(scope='session')
def demo_checkpoint(tmp_path_factory):
    """The demo config's model with seeded random weights (``random_checkpoint``)."""
    from hda_plugin.testing.weights import random_checkpoint
    path = str(tmp_path_factory.mktemp('demo_ckpt') / 'demo_random.pth')
    random_checkpoint(DEMO_CFG, path)
    return path
