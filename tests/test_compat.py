"""The three upstream defects of the pinned stack are worked around (hda_plugin.compat)."""
import os.path as osp
import subprocess
import sys

import numpy as np
import torch
from conftest import ROOT, run_env

import hda_plugin  # noqa: F401


def test_ssd_head_can_predict():
    """mmdet 3.3.0: SSDHead.predict raised AttributeError 'loss_cls' (mmdetection#11063)."""
    from mmdet.models.dense_heads import SSDHead
    from mmengine.config import ConfigDict
    head = SSDHead(
        num_classes=1, in_channels=(4, 4), stacked_convs=0,
        anchor_generator=dict(type='SSDAnchorGenerator', scale_major=False, strides=[16, 32],
                              ratios=[[2], [2]], min_sizes=[16, 32], max_sizes=[32, 64]),
        test_cfg=ConfigDict(nms_pre=100, nms=dict(type='nms', iou_threshold=0.45),
                            min_bbox_size=0, score_thr=0.0, max_per_img=10))
    feats = (torch.rand(1, 4, 4, 4), torch.rand(1, 4, 2, 2))
    meta = [dict(img_shape=(64, 64), scale_factor=(1.0, 1.0), ori_shape=(64, 64))]
    cls_scores, bbox_preds = head(feats)
    results = head.predict_by_feat(cls_scores, bbox_preds, batch_img_metas=meta, rescale=False)
    assert len(results) == 1 and 0 < len(results[0]) <= 10
    assert results[0].labels.unique().tolist() == [0]
    # person score = softmax over (person, background), as SSD trains it
    assert float(results[0].scores.max()) <= 1.0


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
    """tools/test.py configs/ssd512_hda.py <ckpt>: the stock SSD-512 code path predicts and
    VOC AP is printed (random weights, two frames of one camera)."""
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules
    from mmengine.config import Config
    register_all_modules()
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'ssd512_hda.py'))
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    assert type(model.bbox_head).__name__ == 'SSDHead' and model.bbox_head.num_classes == 1
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
