"""``PhotoMetricDistortionLUT``: SSD's colour jitter on ``uint8`` images with lookup tables.

MMDetection's ``PhotoMetricDistortion`` converts the image to float32 and does brightness,
contrast, saturation and hue in float maths (a float HSV round trip every time). Here the
same draws (``PhotoMetricDistortion._random_flags``: the same parameter ranges, flags and
order) act on ``uint8``:

* brightness and contrast are one 256-entry table per step (``cv2.LUT``);
* saturation and hue go through OpenCV's ``uint8`` HSV (hue in 2-degree units, so the
  hue shift is rounded to 2 degrees), a table each on S and H; the HSV round trip is skipped
  when neither is drawn (a quarter of the images);
* channel swap as upstream (``cv2.mixChannels``).

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
        # RandomFlip's output is a reversed view; OpenCV copies such input element by element
        img = np.ascontiguousarray(img)
        lut = _IDENTITY.copy()
        if brightness_flag:
            lut = lut + delta_value
        if mode == 1 and contrast_flag:
            lut = np.clip(lut, 0, 255) * alpha_value
        if saturation_flag or hue_flag:
            if not np.array_equal(lut, _IDENTITY):
                img = cv2.LUT(img, _table(lut))
            hue, sat, val = cv2.split(cv2.cvtColor(img, cv2.COLOR_BGR2HSV))
            if hue_flag:  # OpenCV's uint8 hue is 0..179, 2 degrees a step
                shift = int(round(hue_value / 2))
                hue = cv2.LUT(hue, ((np.arange(256) + shift) % 180).astype(np.uint8))
            if saturation_flag:
                sat = cv2.LUT(sat, _table(_IDENTITY * saturation_value))
            img = cv2.cvtColor(cv2.merge([hue, sat, val]), cv2.COLOR_HSV2BGR)
            lut = _IDENTITY.copy()
        if mode == 0 and contrast_flag:
            lut = lut * alpha_value
        if not np.array_equal(lut, _IDENTITY):
            img = cv2.LUT(img, _table(lut))
        if swap_flag:  # img[..., swap_value], without NumPy's slow fancy indexing
            out = np.empty_like(img)
            cv2.mixChannels([img], [out], [int(v) for i, c in enumerate(swap_value)
                                           for v in (c, i)])
            img = out
        return img

    def transform(self, results: dict) -> dict:
        img = results['img']
        if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
            return super().transform(results)
        results['img'] = _channel_first_memory(self.apply(img, self._random_flags()))
        return results


def _channel_first_memory(img: np.ndarray) -> np.ndarray:
    """``img`` (HWC) as a view of channel-first memory.

    Upstream slowness (mmdet 3.3.0 ``PackDetInputs`` with torch 2.x): a C-contiguous
    ``uint8`` image goes through ``torch.from_numpy(img).permute(2, 0, 1).contiguous()``,
    about 1.1 ms for 512x512x3, where its branch for non-contiguous images
    (``np.ascontiguousarray(img.transpose(2, 0, 1))``) costs nothing for this view: the
    one transposing copy, 0.3 ms, is made here."""
    return np.ascontiguousarray(img.transpose(2, 0, 1)).transpose(1, 2, 0)
