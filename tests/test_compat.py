"""The upstream defects of the pinned stack are worked around: by components the configs name
(PredictableSSDHead, CrashSafeCheckpointHook, CrashSafeRunner) and, where no config reaches,
by hda_plugin.compat; importing hda_plugin patches nothing else."""
import os.path as osp
import subprocess
import sys

import numpy as np
import torch
from conftest import ROOT, run_env

import hda_plugin  # noqa: F401


def _ssd_head_cfg(type_):
    from mmengine.config import ConfigDict
    return dict(
        type=type_, num_classes=1, in_channels=(4, 4), stacked_convs=0,
        anchor_generator=dict(type='SSDAnchorGenerator', scale_major=False, strides=[16, 32],
                              ratios=[[2], [2]], min_sizes=[16, 32], max_sizes=[32, 64]),
        test_cfg=ConfigDict(nms_pre=100, nms=dict(type='nms', iou_threshold=0.45),
                            min_bbox_size=0, score_thr=0.0, max_per_img=10))


def test_predictable_ssd_head_predicts():
    """mmdet 3.3.0: SSDHead.predict raised AttributeError 'loss_cls' (mmdetection#11063);
    the configs name PredictableSSDHead, registered in mmdet's MODELS."""
    from mmdet.models.dense_heads import SSDHead
    from mmdet.registry import MODELS

    from hda_plugin.models import PredictableSSDHead
    head = MODELS.build(_ssd_head_cfg('PredictableSSDHead'))
    assert type(head) is PredictableSSDHead and isinstance(head, SSDHead)
    feats = (torch.rand(1, 4, 4, 4), torch.rand(1, 4, 2, 2))
    meta = [dict(img_shape=(64, 64), scale_factor=(1.0, 1.0), ori_shape=(64, 64))]
    cls_scores, bbox_preds = head(feats)
    results = head.predict_by_feat(cls_scores, bbox_preds, batch_img_metas=meta, rescale=False)
    assert len(results) == 1 and 0 < len(results[0]) <= 10
    assert results[0].labels.unique().tolist() == [0]
    # person score = softmax over (person, background), as SSD trains it
    assert float(results[0].scores.max()) <= 1.0


def test_stock_ssd_head_is_left_as_mmdet_ships_it():
    """Importing hda_plugin no longer patches SSDHead: the fix is the config's head type."""
    import pytest
    from mmdet.models.dense_heads import SSDHead
    from mmdet.registry import MODELS
    assert 'loss_cls' not in vars(SSDHead)
    head = MODELS.build(_ssd_head_cfg('SSDHead'))
    feats = (torch.rand(1, 4, 4, 4), torch.rand(1, 4, 2, 2))
    meta = [dict(img_shape=(64, 64), scale_factor=(1.0, 1.0), ori_shape=(64, 64))]
    with pytest.raises(AttributeError, match='loss_cls'):
        head.predict_by_feat(*head(feats), batch_img_metas=meta, rescale=False)


def test_ssd_head_checkpoints_load_both_ways():
    """Same parameter names: a checkpoint of a stock SSDHead loads strictly into
    PredictableSSDHead and back, and predicts the same."""
    from mmdet.registry import MODELS
    torch.manual_seed(0)
    stock = MODELS.build(_ssd_head_cfg('SSDHead'))
    ours = MODELS.build(_ssd_head_cfg('PredictableSSDHead'))
    assert list(stock.state_dict()) == list(ours.state_dict())
    ours.load_state_dict(stock.state_dict(), strict=True)
    stock.load_state_dict(ours.state_dict(), strict=True)
    feats = (torch.rand(1, 4, 4, 4), torch.rand(1, 4, 2, 2))
    for a, b in zip(stock(feats), ours(feats)):
        assert all(torch.equal(x, y) for x, y in zip(a, b))


def test_importing_hda_plugin_patches_only_what_compat_lists():
    """MMEngine's LocalBackend, CheckpointHook and find_latest_checkpoint, and mmdet's
    SSDHead, are the same objects before and after `import hda_plugin` (fresh process)."""
    code = """
import mmengine.runner.runner as runner_module
from mmdet.models.dense_heads import SSDHead
from mmengine.fileio.backends import LocalBackend
from mmengine.hooks import CheckpointHook
from mmengine.runner.checkpoint import CheckpointLoader

def state():
    return (LocalBackend.put, LocalBackend.put_text, CheckpointHook._save_checkpoint_with_step,
            CheckpointHook.__init__, runner_module.find_latest_checkpoint,
            runner_module.Runner.load_or_resume, dict(vars(SSDHead)))

before = state()
loader_before = dict(CheckpointLoader._schemes)
import hda_plugin
after = state()
for name, a, b in zip(('put', 'put_text', '_save_checkpoint_with_step', 'CheckpointHook',
                       'find_latest_checkpoint', 'load_or_resume', 'SSDHead'), before, after):
    assert a == b, name
# the one patch: the local-file scheme of the checkpoint loader (defect 2)
changed = [k for k in CheckpointLoader._schemes if loader_before.get(k) is not
           CheckpointLoader._schemes[k]]
assert changed == [''], changed
print('unpatched')
"""
    p = subprocess.run([sys.executable, '-c', code], cwd=ROOT, env=run_env(),
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0 and 'unpatched' in p.stdout, p.stdout + p.stderr[-4000:]


def test_components_are_registered_where_the_configs_look():
    from mmdet.registry import HOOKS, MODELS
    from mmengine.fileio import get_file_backend
    from mmengine.registry import RUNNERS

    from hda_plugin.engine import AtomicLocalBackend, CrashSafeRunner
    from hda_plugin.engine.hooks import CrashSafeCheckpointHook
    from hda_plugin.models import PredictableSSDHead
    assert MODELS.get('PredictableSSDHead') is PredictableSSDHead
    assert HOOKS.get('CrashSafeCheckpointHook') is CrashSafeCheckpointHook
    assert RUNNERS.get('CrashSafeRunner') is CrashSafeRunner
    assert type(get_file_backend(backend_args=dict(backend='atomic_local'))) is \
        AtomicLocalBackend
    assert type(get_file_backend('/tmp/x.pth')).__name__ == 'LocalBackend'  # untouched


def test_resume_checkpoint_with_pickled_metadata_loads(tmp_path):
    """mmengine 0.10.7 + torch >= 2.6: torch.load(weights_only=True) refused these."""
    from mmengine.runner.checkpoint import _load_checkpoint
    path = str(tmp_path / 'iter_1.pth')
    torch.save({'state_dict': {'w': torch.ones(2)},
                'meta': {'epoch': 0, 'iter': 1, 'seed': np.int64(3),
                         'hist': np.arange(3)}}, path)
    ckpt = _load_checkpoint(path, map_location='cpu')
    assert ckpt['meta']['iter'] == 1 and int(ckpt['meta']['seed']) == 3


def test_missing_local_checkpoint_is_named(tmp_path):
    import pytest
    from mmengine.runner.checkpoint import _load_checkpoint
    with pytest.raises(FileNotFoundError, match='nothing is downloaded'):
        _load_checkpoint(str(tmp_path / 'vgg16_caffe.pth'))


def test_ssd512_hda_config_tests_a_stock_ssd512(synthetic_release, tmp_path):
    """tools/test.py configs/ssd512_hda.py <ckpt>: the stock SSD-512 code path (through
    PredictableSSDHead) predicts and VOC AP is printed (random weights, two frames of one
    camera)."""
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules
    from mmengine.config import Config
    register_all_modules()
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'ssd512_hda.py'))
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    assert type(model.bbox_head).__name__ == 'PredictableSSDHead'
    assert model.bbox_head.num_classes == 1
    ckpt = str(tmp_path / 'ssd512_random.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, ckpt)
    p = subprocess.run(
        [sys.executable, 'tools/test.py', 'configs/ssd512_hda.py', ckpt, '--work-dir',
         str(tmp_path / 'w'), '--cfg-options', 'model.backbone.init_cfg=None',
         f'test_dataloader.dataset.data_root={synthetic_release}',
         'test_dataloader.dataset.cameras=[19]', 'test_dataloader.dataset.frame_step=3',
         'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False',
         'test_dataloader.batch_size=2'],
        cwd=ROOT, env=run_env(), capture_output=True, text=True, timeout=900)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out[-6000:]
    assert "no attribute 'loss_cls'" not in out
    assert 'voc/AP50' in out and 'voc11/AP50' in out
    assert 'Epoch(test) [1/1]' in out


def test_every_config_names_the_predictable_head():
    import glob

    from hda_plugin.utils.config import load_config
    for path in sorted(glob.glob(osp.join(ROOT, 'configs', '*.py'))):
        cfg = load_config(path)
        assert cfg.model.bbox_head.type == 'PredictableSSDHead', path
        assert cfg.default_hooks.checkpoint.type == 'CrashSafeCheckpointHook', path
        assert cfg.runner_type == 'CrashSafeRunner', path
