"""SSDRandomCropResize against MMDetection's Expand + MinIoURandomCrop + Resize: the same
output for the same draws, and the same distribution of draws."""
import copy

import mmdet.datasets.transforms.transforms as mmdet_transforms
import numpy as np
import pytest
from mmdet.registry import TRANSFORMS
from mmdet.structures.bbox import HorizontalBoxes
from scipy.stats import ks_2samp

from hda_plugin.datasets.transforms.ssd_crop_resize import CropDraw, SSDRandomCropResize

MEAN = [123.675, 116.28, 103.53]  # ssd512_coco's data_preprocessor mean (RGB)


class Recorder:
    """numpy.random as mmdet's transforms call it, every value recorded."""

    def __init__(self):
        self.calls = []

    def uniform(self, *a):
        v = np.random.uniform(*a)
        self.calls.append(('u', v))
        return v

    def choice(self, x):
        v = np.random.choice(x)
        self.calls.append(('c', v))
        return v


def _frame(rng, w, h, n_boxes, n_ignored=0):
    img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    img = np.ascontiguousarray(np.repeat(np.repeat(img[::8, ::8], 8, 0), 8, 1)[:h, :w])
    hgt = rng.uniform(0.1, 0.5, n_boxes + n_ignored) * h
    x1 = rng.uniform(0, w * 0.9, len(hgt))
    y1 = rng.uniform(0, h * 0.6, len(hgt))
    boxes = np.stack([x1, y1, np.minimum(x1 + hgt * 0.41, w), np.minimum(y1 + hgt, h)], 1)
    return dict(img=img, img_shape=(h, w), ori_shape=(h, w),
                gt_bboxes=HorizontalBoxes(boxes.astype(np.float32)),
                gt_bboxes_labels=np.zeros(len(hgt), np.int64),
                gt_ignore_flags=np.r_[np.zeros(n_boxes, bool), np.ones(n_ignored, bool)])


def _stock(scale):
    """Expand, MinIoURandomCrop, Resize (RandomFlip, drawn by mmcv, is tested apart)."""
    return [TRANSFORMS.build(t) for t in SSDRandomCropResize(scale, MEAN).stock_chain()[:3]]


def _stock_with_draws(chain, results, monkeypatch):
    """The stock chain's output and the draws it made, as a CropDraw."""
    rec = Recorder()
    monkeypatch.setattr(mmdet_transforms, 'random', rec)
    h, w = results['img'].shape[:2]
    out = copy.deepcopy(results)
    for t in chain:
        out = t(out)
    monkeypatch.undo()
    c = rec.calls
    if c[0][1] > chain[0].prob:
        ratio, left, top, rest = 1.0, 0, 0, c[1:]
    else:
        ratio, left, top, rest = c[1][1], int(c[2][1]), int(c[3][1]), c[4:]
    cw, ch = (int(w * ratio), int(h * ratio)) if ratio != 1.0 else (w, h)
    mode = [v for k, v in rest if k == 'c'][-1]
    if mode == 1:
        patch = (0, 0, cw, ch)
    else:
        nw, nh, lx, ty = (v for _, v in rest[-4:])
        patch = (int(lx), int(ty), int(lx + nw), int(ty + nh))
    return out, CropDraw(ratio, left, top, (cw, ch), patch, mode)


@pytest.mark.parametrize('size', [(640, 480), (1280, 800), (2560, 1600)])
def test_same_draws_same_boxes_and_image(size, monkeypatch):
    w, h = size
    scale = (512, 512)
    chain, fast = _stock(scale), SSDRandomCropResize(scale, MEAN)
    rng = np.random.default_rng(w)
    np.random.seed(w)
    seen_empty = 0
    diffs = []
    for i in range(12 if w < 2560 else 6):
        # some frames with no boxes, some with an ignore region only, most with people
        n = [0, 1, 3, 6][i % 4]
        results = _frame(rng, w, h, n, n_ignored=1 if i % 3 == 0 else 0)
        stock, draw = _stock_with_draws(chain, results, monkeypatch)
        if i % 2:  # RandomFlip of the stock output; the flip drawn for the new transform
            stock = TRANSFORMS.build(dict(type='RandomFlip', prob=1.0))(stock)
            draw.flip = True
        new = fast.apply(copy.deepcopy(results), draw)
        assert new['flip'] == bool(i % 2)
        sb, nb = stock['gt_bboxes'].numpy(), new['gt_bboxes'].numpy()
        assert sb.shape == nb.shape
        np.testing.assert_allclose(nb, sb, atol=0.5)
        np.testing.assert_array_equal(new['gt_ignore_flags'], stock['gt_ignore_flags'])
        np.testing.assert_array_equal(new['gt_bboxes_labels'], stock['gt_bboxes_labels'])
        assert new['img'].shape == stock['img'].shape == (512, 512, 3)
        np.testing.assert_allclose(new['scale_factor'], stock['scale_factor'], rtol=1e-6)
        diff = np.abs(new['img'].astype(np.float64) - stock['img'].astype(np.float64))
        diffs.append(diff.mean())
        seen_empty += int(len(nb) == 0)
    assert max(diffs) < 3.0, diffs  # interpolation: a few grey levels on average
    assert seen_empty >= 1  # frames where no person is left in the output


def _draw_stats(get_draw, frames, n):
    scale, aspect, mode, kept, box_w, box_h = [], [], [], [], [], []
    for i in range(n):
        results = frames[i % len(frames)]
        d, out = get_draw(results)
        x1, y1, x2, y2 = d.patch
        scale.append((x2 - x1) / d.canvas[0])
        aspect.append((y2 - y1) / max(x2 - x1, 1))
        mode.append(d.mode)
        b = out['gt_bboxes'].numpy()
        kept.append(len(b))
        box_w += (b[:, 2] - b[:, 0]).tolist()
        box_h += (b[:, 3] - b[:, 1]).tolist()
    return dict(scale=scale, aspect=aspect, box_w=box_w, box_h=box_h), mode, kept


def test_same_distribution_over_5000_draws(monkeypatch):
    """KS tests on crop scale, aspect and output box sizes; mode and kept-box frequencies.

    Tolerances: KS statistic below 1.95 * sqrt(2 / n) (the two-sample critical value at
    alpha = 0.001; n = 5,000 draws each), mode and kept-count frequencies within 0.03."""
    scale = (64, 64)  # the draws do not depend on the output size; small keeps it quick
    chain, fast = _stock(scale), SSDRandomCropResize(scale, MEAN)
    rng = np.random.default_rng(0)
    frames = [_frame(rng, 160, 100, n, k) for n, k in ((1, 0), (3, 1), (6, 0), (0, 1))]
    n = 5000
    np.random.seed(1)

    def stock_draw(r):
        out, d = _stock_with_draws(chain, r, monkeypatch)
        return d, out

    def fast_draw(r):
        r = copy.deepcopy(r)
        d = fast.draw(160, 100, r['gt_bboxes'].numpy())
        return d, fast.apply(r, d)

    s_cont, s_mode, s_kept = _draw_stats(stock_draw, frames, n)
    np.random.seed(2)
    f_cont, f_mode, f_kept = _draw_stats(fast_draw, frames, n)
    crit = 1.95 * np.sqrt(2 / n)
    for key in s_cont:
        res = ks_2samp(s_cont[key], f_cont[key])
        assert res.statistic < crit, (key, res.statistic, crit)
    for values in ((s_mode, f_mode), (s_kept, f_kept)):
        cats = sorted(set(values[0]) | set(values[1]))
        fs = np.array([values[0].count(c) for c in cats]) / n
        ff = np.array([values[1].count(c) for c in cats]) / n
        assert np.abs(fs - ff).max() < 0.03, (cats, fs, ff)


def test_stock_switch_runs_mmdetections_chain():
    t = SSDRandomCropResize((128, 128), MEAN, impl='stock')
    assert [type(s).__name__ for s in t._stock] == ['Expand', 'MinIoURandomCrop', 'Resize',
                                                    'RandomFlip']
    out = t(_frame(np.random.default_rng(0), 320, 240, 3))
    assert out['img'].shape == (128, 128, 3)
    with pytest.raises(ValueError, match='expected "fast" or "stock"'):
        SSDRandomCropResize((128, 128), impl='dali')


def test_deferred_jpeg_decoding_and_dct_scale(tmp_path):
    """LoadImageFast(defer_decode=True): the crop decodes the JPEG itself; without DCT
    scaling the output equals decoding first, with it (a patch shrunk 2x or more) it stays
    within a few grey levels; the decoder equals OpenCV's."""
    import cv2

    from hda_plugin.datasets.transforms import LoadImageFast
    from hda_plugin.testing import render_camera
    frames, _ = render_camera(np.random.RandomState(0), 1280, 800, 1)
    path = str(tmp_path / 'I00001.jpg')
    cv2.imwrite(path, frames[0], [cv2.IMWRITE_JPEG_QUALITY, 90])
    eager = LoadImageFast()(dict(img_path=path))
    np.testing.assert_array_equal(eager['img'], cv2.imread(path))
    lazy = LoadImageFast(defer_decode=True)(dict(img_path=path))
    assert 'img' not in lazy and lazy['img_shape'] == (800, 1280)
    boxes = HorizontalBoxes(np.array([[100, 100, 140, 200]], np.float32))
    draw = CropDraw(2.0, 300, 200, (2560, 1600), (0, 0, 2560, 1600), 1)  # 5x shrink
    for dct, tol in ((False, 0.0), (True, 4.0)):
        t = SSDRandomCropResize((512, 512), MEAN, dct_scale=dct)
        a = t.apply(dict(eager, gt_bboxes=boxes.clone()), draw)
        b = t.apply(dict(lazy, gt_bboxes=boxes.clone()), draw)
        diff = np.abs(a['img'].astype(float) - b['img'].astype(float)).mean()
        assert diff <= tol, (dct, diff)
        np.testing.assert_array_equal(a['gt_bboxes'].numpy(), b['gt_bboxes'].numpy())
