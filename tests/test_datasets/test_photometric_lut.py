"""PhotoMetricDistortionLUT against MMDetection's float PhotoMetricDistortion, same draws."""
import numpy as np
from mmdet.datasets.transforms import PhotoMetricDistortion

from hda_plugin.datasets.transforms import PhotoMetricDistortionLUT
from hda_plugin.testing import render_camera

SSD_ARGS = dict(brightness_delta=32, contrast_range=(0.5, 1.5), saturation_range=(0.5, 1.5),
                hue_delta=18)


def test_same_draws_close_to_upstream_float_maths():
    frames, _ = render_camera(np.random.RandomState(0), 320, 240, 4)
    stock, lut = PhotoMetricDistortion(**SSD_ARGS), PhotoMetricDistortionLUT(**SSD_ARGS)
    np.random.seed(0)
    diffs, seen_hsv = [], 0
    for i in range(60):
        img = frames[i % len(frames)]
        np.random.seed(i)  # the same draws for both
        flags = stock._random_flags()
        np.random.seed(i)
        ref = stock.transform(dict(img=img.copy()))['img']
        out = lut.apply(img.copy(), flags)
        assert out.dtype == np.uint8 and out.shape == img.shape
        diffs.append(np.abs(out.astype(np.float64) - np.clip(ref, 0, 255)).mean())
        seen_hsv += int(flags[3] or flags[4])
    assert seen_hsv > 20
    # the uint8 HSV round trip and the clip after every step: a few grey levels on average
    assert np.median(diffs) < 2.0 and max(diffs) < 8.0, (np.median(diffs), max(diffs))


def test_identity_draw_and_float_input():
    img = np.random.default_rng(0).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    lut = PhotoMetricDistortionLUT(**SSD_ARGS)
    none = (0, 0, 0, 0, 0, 0, 0.0, 1.0, 1.0, 0.0, np.arange(3))
    assert np.array_equal(lut.apply(img, none), img)
    out = lut.transform(dict(img=img.astype(np.float32)))  # float: upstream's maths
    assert out['img'].dtype == np.float32
