"""Tile plans (sahi's slices, the --tile auto rule) and the merge of tile detections
(mmdet.utils.large_image)."""
import numpy as np
import pytest

from hda_plugin.inference.tiling import merge_tiles, parse_tile_arg, plan_tiles
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
    merged = merge_tiles(Detections.empty(), tiles, plan, iou_thr=0.45)
    assert len(merged) == 2
    order = np.argsort(-merged.scores)
    np.testing.assert_allclose(merged.boxes[order[0]], person)
    np.testing.assert_allclose(merged.boxes[order[1]], other)
    assert merged.scores[order].tolist() == pytest.approx([0.9, 0.7])
    # the whole frame's own boxes are not shifted
    merged = merge_tiles(dets([other], [0.95]), [Detections.empty()] * 3, plan, 0.45)
    np.testing.assert_allclose(merged.boxes, other[None])
    assert len(merge_tiles(Detections.empty(), [Detections.empty()] * 3, plan, 0.45)) == 0
