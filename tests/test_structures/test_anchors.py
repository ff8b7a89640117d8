"""Resize and anchor geometry of the ground floor."""
import numpy as np
import pytest
from mmcv.transforms import Resize

from hda_plugin.structures import best_centred_anchor_iou, centred_anchor_ious, resize_factors


def test_resize_factors_take_a_transform_or_its_config():
    assert resize_factors(None, 640, 480) == (1.0, 1.0)
    cfg = dict(type='Resize', scale=(512, 512), keep_ratio=False)
    assert resize_factors(cfg, 2560, 1600) == (0.2, 0.32)
    assert resize_factors(Resize(scale=(512, 512), keep_ratio=False), 2560, 1600) == (0.2, 0.32)
    keep = dict(type='Resize', scale=(320, 224), keep_ratio=True)
    assert resize_factors(keep, 640, 480) == pytest.approx((224 / 480, 224 / 480))
    assert resize_factors(Resize(scale=(320, 224), keep_ratio=True), 640, 480) == \
        resize_factors(keep, 640, 480)
    assert resize_factors(dict(scale_factor=0.5), 640, 480) == (0.5, 0.5)


def test_centred_anchor_ious_by_hand():
    anchors = np.array([[10, 20], [20, 20]])
    ious = centred_anchor_ious(np.array([[10, 20], [5, 10]]), anchors)
    np.testing.assert_allclose(ious, [[1.0, 0.5], [0.25, 50 / 400]])
    assert best_centred_anchor_iou((5, 10), anchors) == pytest.approx(0.25)
