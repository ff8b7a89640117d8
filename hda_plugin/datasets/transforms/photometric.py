"""``PhotoMetricDistortionLUT``: SSD's colour jitter on ``uint8`` images with lookup tables.

MMDetection's ``PhotoMetricDistortion`` converts the image to float32 and does brightness,
contrast, saturation and hue in float maths (a float HSV round trip every time). Here the
same draws (``PhotoMetricDistortion._random_flags``: the same parameter ranges, flags and
order) act on ``uint8``:

* brightness and contrast are one 256-entry table per step (``cv2.LUT``);
* saturation and hue go through OpenCV's ``uint8`` HSV (hue in 2-degree units, so the
  hue shift is rounded to 2 degrees), a table each on S and H; the HSV round trip is skipped
  when neither is drawn (a quarter of the images);
* channel swap as upstream.

Deviation, by construction: values are clipped to 0..255 after each step (upstream's float
image may leave that range until the data preprocessor normalises it), and the output
stays ``uint8``. ``tests/test_datasets/test_photometric_lut.py`` measures the difference to
upstream for the same draws.
"""
import cv2
import numpy as np
from mmdet.datasets.transforms import PhotoMetricDistortion
from mmdet.registry import TRANSFORMS

__all__ = ['PhotoMetricDistortionLUT']

_IDENTITY = np.arange(256, dtype=np.float64)


def _table(values: np.ndarray) -> np.ndarray:
    return np.clip(np.round(values), 0, 255).astype(np.uint8)


@TRANSFORMS.register_module()
class PhotoMetricDistortionLUT(PhotoMetricDistortion):
    """``PhotoMetricDistortion`` (same arguments) on ``uint8`` images with lookup tables;
    other dtypes go to the upstream float implementation."""

    def apply(self, img: np.ndarray, flags) -> np.ndarray:
        """``img`` distorted by the draws ``flags`` (``self._random_flags()``)."""
        (mode, brightness_flag, contrast_flag, saturation_flag, hue_flag, swap_flag,
         delta_value, alpha_value, saturation_value, hue_value, swap_value) = flags
        lut = _IDENTITY.copy()
        if brightness_flag:
            lut = lut + delta_value
        if mode == 1 and contrast_flag:
            lut = np.clip(lut, 0, 255) * alpha_value
        if saturation_flag or hue_flag:
            if not np.array_equal(lut, _IDENTITY):
                img = cv2.LUT(img, _table(lut))
            hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV)
            # one 3-channel table: H shifted (OpenCV's uint8 hue is 0..179, 2 degrees a
            # step), S scaled, V unchanged
            tables = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, 1)
            if hue_flag:
                tables[:, 0] = (np.arange(256) + int(round(hue_value / 2))) % 180
            if saturation_flag:
                tables[:, 1] = _table(_IDENTITY * saturation_value)
            img = cv2.cvtColor(cv2.LUT(hsv, tables.reshape(1, 256, 3)), cv2.COLOR_HSV2BGR)
            lut = _IDENTITY.copy()
        if mode == 0 and contrast_flag:
            lut = lut * alpha_value
        if not np.array_equal(lut, _IDENTITY):
            img = cv2.LUT(img, _table(lut))
        if swap_flag:
            img = np.ascontiguousarray(img[..., swap_value])
        return img

    def transform(self, results: dict) -> dict:
        img = results['img']
        if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
            return super().transform(results)
        results['img'] = self.apply(img, self._random_flags())
        return results
