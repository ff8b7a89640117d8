"""Tile plans (sahi's slices, the --tile auto rule) and the merge of tile detections: the
same boxes as mmdet.utils.large_image's merge, capped at max_per_img; the capped NMS equal
to NMS over everything then truncation."""
import numpy as np
import pytest

from hda_plugin.inference.tiling import capped_nms, merge_tiles, parse_tile_arg, plan_tiles
from hda_plugin.structures import Detections, best_centred_anchor_iou, resize_factors

# SSD-512's finest level (SSDAnchorGenerator, input 512: min 20, max 51, ratio 2)
SSD512_ANCHORS = np.array([[20, 20], [31.94, 31.94], [28.28, 14.14], [14.14, 28.28]])
RESIZE_512 = dict(type='Resize', scale=(512, 512), keep_ratio=False)


def test_auto_tiles_the_2560x1600_camera_not_the_640x480_ones():
    big = plan_tiles('auto', (2560, 1600), (512, 512), RESIZE_512, SSD512_ANCHORS, 0.5)
    small = plan_tiles('auto', (640, 480), (512, 512), RESIZE_512, SSD512_ANCHORS, 0.5)
    assert big.tiled and not small.tiled
    assert 'tiled: a 40 px person becomes 3.3x12.8 px' in big.reason
    assert 'not tiled' in small.reason and '>= pos_iou_thr 0.5' in small.reason
    # tiles of the input size, inside the frame, overlapping, covering every pixel
    cover = np.zeros((1600, 2560), bool)
    for x1, y1, x2, y2 in big.tiles:
        assert (x2 - x1, y2 - y1) == (512, 512)
        assert 0 <= x1 < x2 <= 2560 and 0 <= y1 < y2 <= 1600
        cover[y1:y2, x1:x2] = True
    assert cover.all()
    # a lower --min-person-height can only tile more
    assert plan_tiles('auto', (640, 480), (512, 512), RESIZE_512, SSD512_ANCHORS, 0.5,
                      min_person_height=20).tiled


def test_tile_arguments_and_fixed_tiles():
    assert parse_tile_arg('auto') == 'auto' and parse_tile_arg('OFF') == 'off'
    assert parse_tile_arg('640x400') == (640, 400)
    with pytest.raises(ValueError, match='expected auto, off or WxH'):
        parse_tile_arg('big')
    assert not plan_tiles('off', (2560, 1600), (512, 512), RESIZE_512, SSD512_ANCHORS, .5).tiled
    p = plan_tiles((640, 400), (1280, 800), (512, 512), RESIZE_512, SSD512_ANCHORS, .5)
    assert p.tiled and all((t[2] - t[0], t[3] - t[1]) == (640, 400) for t in p.tiles)
    whole = plan_tiles((640, 480), (640, 480), (512, 512), RESIZE_512, SSD512_ANCHORS, .5)
    assert not whole.tiled


def test_resize_scale_follows_mmcv_rules():
    assert resize_factors(RESIZE_512, 2560, 1600) == (0.2, 0.32)
    keep = dict(type='Resize', scale=(320, 224), keep_ratio=True)
    assert resize_factors(keep, 1280, 800) == (0.25, 0.25)
    assert resize_factors(keep, 640, 480) == pytest.approx((224 / 480, 224 / 480))
    assert best_centred_anchor_iou((14.14, 28.28), SSD512_ANCHORS) == pytest.approx(1.0)


def test_merge_shifts_tile_boxes_and_drops_duplicates():
    plan = plan_tiles((512, 512), (1000, 512), (512, 512), RESIZE_512, SSD512_ANCHORS, .5)
    offsets = [t[0] for t in plan.tiles]
    assert offsets == [0, 410, 488]  # sahi: 20 % overlap, the last tile flush right
    # one person at frame x 420..440, seen by the first two tiles (in tile coordinates),
    # one only in the last tile; the whole frame finds nothing
    person = np.array([420, 100, 440, 150], np.float32)
    other = np.array([900, 10, 920, 60], np.float32)

    def dets(boxes, scores):
        return Detections(np.array(boxes, np.float32).reshape(-1, 4),
                          np.array(scores, np.float32), np.zeros(len(scores), np.int64))

    shift = [np.array([o, 0, o, 0], np.float32) for o in offsets]
    tiles = [dets([person - shift[0]], [0.9]), dets([person - shift[1]], [0.8]),
             dets([other - shift[2]], [0.7])]
    merged = merge_tiles(Detections.empty(), tiles, plan, iou_thr=0.45, max_per_img=200)
    assert len(merged) == 2
    order = np.argsort(-merged.scores)
    np.testing.assert_allclose(merged.boxes[order[0]], person)
    np.testing.assert_allclose(merged.boxes[order[1]], other)
    assert merged.scores[order].tolist() == pytest.approx([0.9, 0.7])
    # the whole frame's own boxes are not shifted
    merged = merge_tiles(dets([other], [0.95]), [Detections.empty()] * 3, plan, 0.45, 200)
    np.testing.assert_allclose(merged.boxes, other[None])
    assert len(merge_tiles(Detections.empty(), [Detections.empty()] * 3, plan, 0.45, 200)) == 0
    # the cap: the best box only
    merged = merge_tiles(Detections.empty(), tiles, plan, iou_thr=0.45, max_per_img=1)
    assert merged.scores.tolist() == pytest.approx([0.9])


def _random_boxes(rng, n, n_classes, size=2560):
    """``n`` boxes in clusters (so that NMS suppresses many), distinct scores."""
    centres = rng.uniform(0, size, (max(n // 12, 1), 2))
    c = centres[rng.randint(0, len(centres), n)] + rng.normal(0, 6, (n, 2))
    wh = rng.uniform(10, 80, (n, 2))
    boxes = np.clip(np.concatenate([c - wh / 2, c + wh / 2], 1), 0, size).astype(np.float32)
    scores = rng.permutation(n).astype(np.float32) / n + np.float32(0.5 / n)
    return boxes, scores, rng.randint(0, n_classes, n).astype(np.int64)


@pytest.mark.parametrize('n,n_classes', [(3000, 1), (3000, 3), (18000, 1)])
def test_capped_nms_equals_full_nms_then_truncation(n, n_classes):
    import torch
    from mmcv.ops import batched_nms
    rng = np.random.RandomState(n + n_classes)
    boxes, scores, labels = _random_boxes(rng, n, n_classes)
    # NMS over every box as merge_results_by_nms ran it (class-wise), highest score first
    _, full = batched_nms(torch.from_numpy(boxes), torch.from_numpy(scores),
                          torch.from_numpy(labels), dict(type='nms', iou_threshold=0.45))
    full = full.numpy()
    assert 50 < len(full) < n  # NMS suppresses some, keeps many
    for max_num in (1, 7, 200, len(full) - 1, len(full), len(full) + 5, -1):
        got = capped_nms(boxes, scores, labels, 0.45, max_num)
        want = full if max_num <= 0 else full[:max_num]
        assert got.tolist() == want.tolist(), max_num


def test_capped_merge_is_mmdet_merge_truncated():
    """merge_tiles == mmdet.utils.large_image.merge_results_by_nms, then [:max_per_img]."""
    import torch
    from mmdet.structures import DetDataSample
    from mmdet.utils.large_image import merge_results_by_nms
    from mmengine.structures import InstanceData
    plan = plan_tiles((512, 512), (1400, 1000), (512, 512), RESIZE_512, SSD512_ANCHORS, .5)
    rng = np.random.RandomState(0)
    n = 1 + len(plan.tiles)
    distinct = rng.permutation(200 * n).astype(np.float32) / (200 * n)  # no ties across passes
    passes = []
    for i in range(n):
        b, _, lab = _random_boxes(rng, 200, 1, size=500)
        passes.append(Detections(b, distinct[200 * i:200 * (i + 1)], lab))
    samples = []
    for d in passes:
        sample = DetDataSample()
        sample.pred_instances = InstanceData(bboxes=torch.from_numpy(d.boxes),
                                             scores=torch.from_numpy(d.scores),
                                             labels=torch.from_numpy(d.labels))
        samples.append(sample)
    ref = merge_results_by_nms(samples, [(0, 0)] + [(t[0], t[1]) for t in plan.tiles],
                               src_image_shape=(1000, 1400),
                               nms_cfg=dict(type='nms', iou_threshold=0.45)).pred_instances
    assert len(ref) > 200
    for cap in (200, 10 ** 6):
        got = merge_tiles(passes[0], passes[1:], plan, 0.45, cap)
        assert len(got) == min(cap, len(ref))
        np.testing.assert_array_equal(got.boxes, ref.bboxes.numpy()[:cap])
        np.testing.assert_array_equal(got.scores, ref.scores.numpy()[:cap])


def test_capped_nms_with_tied_scores_is_the_full_run_truncated():
    """Many equal scores (identical tiles of a uniform background give them): every cap
    keeps the first boxes of the uncapped run, ties visited in input order."""
    rng = np.random.RandomState(5)
    boxes, _, labels = _random_boxes(rng, 4000, 2)
    scores = rng.randint(0, 40, 4000).astype(np.float32) / 40  # 40 values, ~100 boxes each
    full = capped_nms(boxes, scores, labels, 0.45, -1)
    assert len(full) > 300
    for max_num in (1, 99, 100, 101, 256, len(full), len(full) + 1):
        assert capped_nms(boxes, scores, labels, 0.45, max_num).tolist() == \
            full[:max_num].tolist(), max_num
    # equal scores: the box that comes first in the input is visited first
    two = np.array([[0, 0, 10, 10], [1, 0, 11, 10]], np.float32)
    for first in (0, 1):
        b = two[[first, 1 - first]]
        kept = capped_nms(b, np.ones(2, np.float32), np.zeros(2, np.int64), 0.45, 5)
        assert kept.tolist() == [0]
