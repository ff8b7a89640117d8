"""``SSDRandomCropResize``: SSD's zoom-out / zoom-in augmentation (and flip) as one warp.

MMDetection's SSD chain is ``Expand`` (paste the frame into a mean-filled canvas up to 4x
each side, half of the time), ``MinIoURandomCrop`` (a random patch of the canvas whose IoU
with every box reaches a randomly chosen minimum) and ``Resize`` (the patch to the input
size). The canvas is up to 16x the frame (10240x6400x3 bytes for a 2560x1600 frame) and the
patch search a Python loop. This transform draws the same random quantities by the same
rules, in canvas coordinates, and then maps the part of the frame the patch sees straight
into the output with one ``cv2.warpAffine`` (bilinear, the mean outside the frame): no
canvas, and the search is vectorised over its 50 trials.

Rules kept, from mmdet 3.3.0 ``Expand`` / ``MinIoURandomCrop`` / ``Resize``:

* expand with probability ``expand_prob``; ratio ``U(ratio_range)``; canvas
  ``int(h * r) x int(w * r)``; frame at ``left = int(U(0, w r - w))``,
  ``top = int(U(0, h r - h))``; fill ``mean`` as the canvas dtype (``uint8``: truncated);
* mode ``choice((1, *min_ious, 0))``, 1 = no crop; else up to 50 trials of
  ``new_w ~ U(min_crop_size W, W)``, ``new_h ~ U(min_crop_size H, H)``, rejected when
  ``new_h / new_w`` is outside ``[0.5, 2]``, ``left`` and ``top`` as upstream draws them
  (``numpy.random.uniform(W - new_w)``: between 1 and ``W - new_w``, the low bound being
  ``W - new_w`` and the high 1), patch ``int`` of its corners, rejected when degenerate, when
  any box (ignored ones included, as upstream) has IoU below the mode, or when no box
  centre lies strictly inside; when all 50 fail, a new mode is drawn (upstream's
  ``while True``);
* then ``RandomFlip`` (horizontal, ``flip_prob``) of the output, done inside the warp;
* boxes, labels and ``gt_ignore_flags`` of the boxes whose centre is inside are kept,
  shifted and clipped to the patch; then scaled to ``scale`` (``keep_ratio=False``) and
  clipped to the output; ``scale_factor`` is the patch-to-output factor, as ``Resize``
  sets it.

The draws are made with NumPy's global generator (as upstream, so MMEngine's seeding of
each worker applies), the 50 trials at once: the random stream differs from the stock
chain's, every drawn quantity has the same distribution.
``tests/test_datasets/test_ssd_crop_resize.py`` checks both: the same output for the same
draws, and the same histograms over 5,000 draws.
"""
from dataclasses import dataclass
from typing import Sequence, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmdet.registry import TRANSFORMS
from mmdet.structures.bbox import HorizontalBoxes, autocast_box_type

from ...fileio.jpeg import JPEG_SCALES, decode_bgr

__all__ = ['SSDRandomCropResize', 'CropDraw']

_TRIALS = 50


@dataclass
class CropDraw:
    """One draw: the expand ratio and the frame's place on the canvas (``ratio == 1``:
    not expanded), the canvas size, the patch ``x1, y1, x2, y2`` on the canvas, the crop
    mode (min IoU, 1 = no crop) and the horizontal flip."""
    ratio: float
    left: int
    top: int
    canvas: Tuple[int, int]  # (W, H)
    patch: Tuple[int, int, int, int]
    mode: float
    flip: bool = False


def _iou(patch: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU ``(T, N)`` of ``(T, 4)`` patches with ``(N, 4)`` boxes (mmdet's
    ``bbox_overlaps``, ``eps=1e-6``)."""
    ix1 = np.maximum(patch[:, None, 0], boxes[None, :, 0])
    iy1 = np.maximum(patch[:, None, 1], boxes[None, :, 1])
    ix2 = np.minimum(patch[:, None, 2], boxes[None, :, 2])
    iy2 = np.minimum(patch[:, None, 3], boxes[None, :, 3])
    inter = np.clip(ix2 - ix1, 0, None) * np.clip(iy2 - iy1, 0, None)
    ap = (patch[:, 2] - patch[:, 0]) * (patch[:, 3] - patch[:, 1])
    ab = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(ap[:, None] + ab[None] - inter, 1e-6)


def _centres_inside(patch: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """``(T, N)``: box centre strictly inside the patch (upstream's rule)."""
    cx = (boxes[:, 0] + boxes[:, 2]) / 2
    cy = (boxes[:, 1] + boxes[:, 3]) / 2
    return ((cx[None] > patch[:, None, 0]) & (cy[None] > patch[:, None, 1]) &
            (cx[None] < patch[:, None, 2]) & (cy[None] < patch[:, None, 3]))


@TRANSFORMS.register_module()
class SSDRandomCropResize(BaseTransform):
    """``Expand`` + ``MinIoURandomCrop`` + ``Resize(keep_ratio=False)`` + ``RandomFlip``
    in one step.

    Args:
        scale (tuple): output ``(w, h)``, the ``Resize`` scale.
        mean (Sequence[float]): fill value, in the order of ``to_rgb`` as ``Expand``'s.
        to_rgb (bool): ``mean`` is RGB and the image BGR (``Expand``'s flag).
        ratio_range (tuple): ``Expand``'s. Defaults to (1, 4).
        expand_prob (float): ``Expand``'s ``prob``. Defaults to 0.5.
        min_ious (Sequence[float]): ``MinIoURandomCrop``'s. Defaults to SSD's.
        min_crop_size (float): ``MinIoURandomCrop``'s. Defaults to 0.3.
        bbox_clip_border (bool): clip boxes to the patch and the output. Defaults to True.
        flip_prob (float): ``RandomFlip``'s ``prob`` (horizontal): the flip is done by the
            same warp, for free, where ``RandomFlip`` after it would mirror the output
            (a reversed view that costs the next transform a slow copy). Defaults to 0.5.
        interpolation (str): ``'bilinear'`` (``Resize``'s default) or ``'nearest'``.
        dct_scale (bool): when the image comes as JPEG bytes (``LoadImageFast`` with
            ``defer_decode=True``), decode it at 1/2, 1/4 or 1/8 (libjpeg's DCT scaling)
            when the patch is shrunk at least that much on its way to the output. The
            decoder's downscale averages where ``cv2.resize`` samples, so such outputs are
            slightly smoother (less aliased) than the stock chain's. Defaults to True.
        impl (str): ``'fast'`` (this transform) or ``'stock'`` (MMDetection's three
            transforms, unchanged, RandomFlip included: the config switch back to the stock
            chain).
    """

    def __init__(self, scale: Tuple[int, int], mean: Sequence[float] = (0, 0, 0),
                 to_rgb: bool = True, ratio_range: Tuple[float, float] = (1, 4),
                 expand_prob: float = 0.5,
                 min_ious: Sequence[float] = (0.1, 0.3, 0.5, 0.7, 0.9),
                 min_crop_size: float = 0.3, bbox_clip_border: bool = True,
                 flip_prob: float = 0.5, interpolation: str = 'bilinear', dct_scale: bool = True,
                 impl: str = 'fast'):
        if impl not in ('fast', 'stock'):
            raise ValueError(f'SSDRandomCropResize impl={impl!r}: expected "fast" or "stock".')
        if interpolation not in ('bilinear', 'nearest'):
            raise ValueError(f'SSDRandomCropResize interpolation={interpolation!r}: expected '
                             '"bilinear" or "nearest".')
        self.scale = (int(scale[0]), int(scale[1]))
        self.keep_ratio, self.scale_factor = False, None  # read as a Resize's by the hooks
        self.mean = np.array(mean[::-1] if to_rgb else mean, np.float64)
        self.ratio_range = tuple(ratio_range)
        self.expand_prob = expand_prob
        self.min_ious = tuple(min_ious)
        self.sample_mode = (1, *min_ious, 0)
        self.min_crop_size = min_crop_size
        self.bbox_clip_border = bbox_clip_border
        self.flip_prob = flip_prob
        self.interpolation = interpolation
        self.dct_scale = dct_scale
        self.impl = impl
        if impl == 'stock':
            self._stock = [TRANSFORMS.build(t) for t in self.stock_chain()]

    def stock_chain(self) -> list:
        """The MMDetection transforms this one replaces, with its parameters."""
        mean = self.mean[::-1].tolist()
        return [dict(type='Expand', mean=mean, to_rgb=True, ratio_range=self.ratio_range,
                     prob=self.expand_prob),
                dict(type='MinIoURandomCrop', min_ious=self.min_ious,
                     min_crop_size=self.min_crop_size, bbox_clip_border=self.bbox_clip_border),
                dict(type='Resize', scale=self.scale, keep_ratio=False,
                     clip_object_border=self.bbox_clip_border,
                     interpolation=self.interpolation),
                dict(type='RandomFlip', prob=self.flip_prob, direction='horizontal')]

    # -- the draws ---------------------------------------------------------------------------
    def draw(self, w: int, h: int, boxes: np.ndarray) -> CropDraw:
        """Expand and crop parameters for a ``w x h`` frame with ``(N, 4)`` boxes."""
        random = np.random  # upstream's `from numpy import random`
        if random.uniform(0, 1) > self.expand_prob:
            ratio, left, top = 1.0, 0, 0
        else:
            ratio = random.uniform(*self.ratio_range)
            left = int(random.uniform(0, w * ratio - w))
            top = int(random.uniform(0, h * ratio - h))
        cw, ch = (int(w * ratio), int(h * ratio)) if ratio != 1.0 else (w, h)
        boxes = boxes.reshape(-1, 4) + np.array([left, top, left, top], boxes.dtype)
        while True:
            mode = random.choice(self.sample_mode)
            patch = (0, 0, cw, ch) if mode == 1 else self._search(cw, ch, boxes, mode)
            if patch is not None:
                flip = bool(random.rand() < self.flip_prob) if self.flip_prob > 0 else False
                return CropDraw(ratio, left, top, (cw, ch), patch, mode, flip)

    def _search(self, cw: int, ch: int, boxes: np.ndarray, min_iou: float):
        """The first of 50 i.i.d. trials that upstream's loop would accept, or None."""
        rng = np.random
        new_w = rng.uniform(self.min_crop_size * cw, cw, _TRIALS)
        new_h = rng.uniform(self.min_crop_size * ch, ch, _TRIALS)
        # numpy.random.uniform(W - new_w): low = W - new_w, high = 1.0 (upstream's call)
        left = (cw - new_w) + (1.0 - (cw - new_w)) * rng.uniform(0, 1, _TRIALS)
        top = (ch - new_h) + (1.0 - (ch - new_h)) * rng.uniform(0, 1, _TRIALS)
        patch = np.stack([left.astype(np.int64), top.astype(np.int64),
                          (left + new_w).astype(np.int64), (top + new_h).astype(np.int64)], 1)
        ok = (new_h / new_w >= 0.5) & (new_h / new_w <= 2)
        ok &= (patch[:, 2] != patch[:, 0]) & (patch[:, 3] != patch[:, 1])
        if len(boxes):
            pf = patch.astype(np.float32)
            ok &= _iou(pf, boxes).min(1) >= min_iou
            ok &= _centres_inside(pf, boxes).any(1)
        hit = np.flatnonzero(ok)
        return tuple(int(v) for v in patch[hit[0]]) if len(hit) else None

    # -- applying a draw -----------------------------------------------------------------------
    def apply(self, results: dict, d: CropDraw) -> dict:
        """``results`` transformed by draw ``d``: the image from ``results['img']``, or
        decoded here from ``results['img_bytes']`` (see ``dct_scale``)."""
        x1, y1, x2, y2 = d.patch
        pw, ph = x2 - x1, y2 - y1
        ow, oh = self.scale
        sx, sy = ow / pw, oh / ph
        # output pixel (u, v) samples the patch at ((u + .5) / sx - .5, ...) as cv2.resize,
        # i.e. the frame at that plus the patch corner minus the frame's place on the canvas
        m = np.array([[1 / sx, 0, 0.5 / sx - 0.5 + x1 - d.left],
                      [0, 1 / sy, 0.5 / sy - 0.5 + y1 - d.top]], np.float64)
        if d.flip:  # output column u shows what column ow - 1 - u would
            m[0, 2] += m[0, 0] * (ow - 1)
            m[0, 0] = -m[0, 0]
        img = results.get('img')
        if img is None:
            factor = 1
            if self.dct_scale:  # the coarsest decode still at least as dense as the output
                factor = max(f for f in JPEG_SCALES if f * max(sx, sy) <= 1.0 or f == 1)
            img = decode_bgr(results.pop('img_bytes'), factor, str(results.get('img_path')))
            if factor > 1:  # full-frame pixel x is decoded pixel (x + .5) / f - .5
                m[:, :2] /= factor
                m[:, 2] = (m[:, 2] + 0.5) / factor - 0.5
        results['img'] = self._warp(img, m, ow, oh)
        results['img_shape'] = (oh, ow)
        results['scale_factor'] = (sx, sy)
        results['keep_ratio'] = False
        results['flip'] = d.flip
        results['flip_direction'] = 'horizontal' if d.flip else None
        boxes = results.get('gt_bboxes')
        if boxes is not None:
            b = boxes.numpy().reshape(-1, 4) + np.array([d.left, d.top, d.left, d.top],
                                                         np.float32)
            if d.mode != 1:
                keep = _centres_inside(np.array([d.patch], np.float32), b)[0]
                b = b[keep] - np.array([x1, y1, x1, y1], np.float32)
                if self.bbox_clip_border:
                    b = b.clip(0, np.array([pw, ph, pw, ph], np.float32))
                for key in ('gt_bboxes_labels', 'gt_ignore_flags'):
                    if results.get(key) is not None:
                        results[key] = results[key][keep]
            b = b * np.array([sx, sy, sx, sy], np.float32)
            if self.bbox_clip_border:
                b = b.clip(0, np.array([ow, oh, ow, oh], np.float32))
            if d.flip:  # HorizontalBoxes.flip_: x1' = w - x2, x2' = w - x1
                b = np.stack([ow - b[:, 2], b[:, 1], ow - b[:, 0], b[:, 3]], 1)
            results['gt_bboxes'] = HorizontalBoxes(b.astype(np.float32).reshape(-1, 4))
        return results

    def _warp(self, img: np.ndarray, m: np.ndarray, ow: int, oh: int) -> np.ndarray:
        """The ``ow x oh`` output sampling ``img`` at ``m @ (u, v, 1)``, the mean outside.
        Only the output rows and columns that see the frame are warped (after ``Expand``
        the frame may cover a small part of the output); the rest is filled. A horizontal
        flip (``m[0, 0] < 0``) is a ``cv2.flip`` of the unflipped result."""
        h, w = img.shape[:2]
        fill = self.mean.astype(img.dtype)  # Expand's canvas dtype cast
        flags = (cv2.INTER_LINEAR if self.interpolation == 'bilinear' else cv2.INTER_NEAREST)
        flip = m[0, 0] < 0
        if flip:  # undo the mirror in m; cv2.flip of the result is cheaper than a warp
            m = m.copy()
            m[0, 0] = -m[0, 0]
            m[0, 2] -= m[0, 0] * (ow - 1)
        out = self._resize_inside(img, m, ow, oh, flags)
        if out is None:
            out = self._warp_roi(img, m, ow, oh, flags, fill)
        return cv2.flip(out, 1).reshape(out.shape) if flip else out

    @staticmethod
    def _resize_inside(img, m, ow, oh, flags):
        """When the patch lies inside the frame (no canvas around it): the stock chain's
        own crop and ``cv2.resize``, pixel for pixel; else None."""
        h, w = img.shape[:2]
        sx, sy = 1 / m[0, 0], 1 / m[1, 1]
        x1, y1 = m[0, 2] - 0.5 / sx + 0.5, m[1, 2] - 0.5 / sy + 0.5  # patch corner, frame px
        rx1, ry1 = int(round(x1)), int(round(y1))
        rx2, ry2 = rx1 + int(round(ow / sx)), ry1 + int(round(oh / sy))
        if abs(x1 - rx1) > 1e-6 or abs(y1 - ry1) > 1e-6 or rx1 < 0 or ry1 < 0 or \
                rx2 > w or ry2 > h:
            return None
        out = cv2.resize(img[ry1:ry2, rx1:rx2], (ow, oh), interpolation=flags)
        return out.reshape((oh, ow) + img.shape[2:])

    @staticmethod
    def _warp_roi(img, m, ow, oh, flags, fill):
        h, w = img.shape[:2]
        # output pixels whose sample lies within a pixel of the frame (bilinear support)
        sx, sy, tx, ty = m[0, 0], m[1, 1], m[0, 2], m[1, 2]
        ua, ub = (-1 - tx) / sx, (w - tx) / sx  # sx < 0 when flipped
        va, vb = (-1 - ty) / sy, (h - ty) / sy
        u1, u2 = int(np.floor(min(ua, ub))), int(np.ceil(max(ua, ub))) + 1
        v1, v2 = int(np.floor(min(va, vb))), int(np.ceil(max(va, vb))) + 1
        u1, v1, u2, v2 = max(u1, 0), max(v1, 0), min(u2, ow), min(v2, oh)
        if (u1, v1, u2, v2) == (0, 0, ow, oh):
            out = cv2.warpAffine(img, m, (ow, oh), flags=flags | cv2.WARP_INVERSE_MAP,
                                 borderMode=cv2.BORDER_CONSTANT, borderValue=fill.tolist())
            return out[..., None] if out.ndim == 2 and img.ndim == 3 else out
        out = np.empty((oh, ow) + img.shape[2:], img.dtype)
        out[:] = fill
        if u2 > u1 and v2 > v1:
            sub = m.copy()
            sub[:, 2] += m[:, :2] @ np.array([u1, v1], np.float64)  # ROI origin
            roi = cv2.warpAffine(img, sub, (u2 - u1, v2 - v1), flags=flags |
                                 cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT,
                                 borderValue=fill.tolist())
            out[v1:v2, u1:u2] = roi.reshape(out[v1:v2, u1:u2].shape)
        return out

    @autocast_box_type()
    def transform(self, results: dict) -> dict:
        if self.impl == 'stock':
            if results.get('img') is None:  # LoadImageFast(defer_decode=True) before it
                results['img'] = decode_bgr(results.pop('img_bytes'), 1,
                                            str(results.get('img_path')))
            for t in self._stock:
                results = t(results)
            return results
        h, w = results['img'].shape[:2] if results.get('img') is not None else \
            results['img_shape'][:2]
        boxes = results.get('gt_bboxes')
        b = boxes.numpy() if boxes is not None else np.zeros((0, 4), np.float32)
        return self.apply(results, self.draw(w, h, b))

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(scale={self.scale}, mean={self.mean.tolist()}, '
                f'ratio_range={self.ratio_range}, expand_prob={self.expand_prob}, '
                f'min_ious={self.min_ious}, min_crop_size={self.min_crop_size}, '
                f'impl={self.impl!r})')
