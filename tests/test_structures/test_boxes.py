"""Boxes and detections of the ground floor: hand-made arrays with exact expected values."""
import numpy as np
import torch

from hda_plugin.structures import (
    Detections,
    normalise_xyxy,
    resize_to_aspect,
    resize_xywh_to_aspect,
    to_numpy,
    xywh_to_xyxy,
    xyxy_to_xywh,
)


def test_xyxy_xywh_round_trip():
    xyxy = np.array([[10, 20, 30, 60], [0, 0, 1.5, 2.5]], np.float32)
    xywh = xyxy_to_xywh(xyxy)
    assert xywh.dtype == np.float64
    np.testing.assert_array_equal(xywh, [[10, 20, 20, 40], [0, 0, 1.5, 2.5]])
    np.testing.assert_array_equal(xywh_to_xyxy(xywh), xyxy)
    assert xyxy_to_xywh([]).shape == (0, 4)


def test_normalise_swaps_corners_given_the_other_way_round():
    b = np.array([[30, 60, 10, 20], [1, 2, 3, 4]], np.float32)
    out = normalise_xyxy(b)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [[10, 20, 30, 60], [1, 2, 3, 4]])


def test_aspect_resize_keeps_centre_and_height_in_both_forms():
    xyxy = np.array([[10, 0, 50, 100]])
    r = resize_to_aspect(xyxy, 0.41)
    np.testing.assert_allclose(r, [[30 - 20.5, 0, 30 + 20.5, 100]])
    # the toolbox's xywh arithmetic gives the same box
    np.testing.assert_allclose(xywh_to_xyxy(resize_xywh_to_aspect(xyxy_to_xywh(xyxy), 0.41)), r)


def test_to_numpy_and_detections_from_instances():
    inst = dict(bboxes=torch.tensor([[1., 2., 3., 4.]]), scores=torch.tensor([0.5]),
                labels=torch.tensor([0]))
    d = Detections.from_instances(inst)
    assert len(d) == 1 and d.boxes.dtype == np.float32 and d.labels.dtype == np.int64
    np.testing.assert_array_equal(to_numpy(inst['bboxes']), [[1, 2, 3, 4]])
    assert len(d.select(d.scores > 0.6)) == 0 and len(Detections.empty()) == 0
