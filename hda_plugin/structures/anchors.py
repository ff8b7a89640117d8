"""Resize and anchor geometry: the scale a test ``Resize`` gives a frame, the IoU of a box
with anchors centred on it, and the smallest person the HDA benchmark counts."""
from typing import Tuple

import numpy as np

__all__ = ['MIN_PERSON_HEIGHT', 'PERSON_ASPECT', 'resize_factors', 'centred_anchor_ious',
           'best_centred_anchor_iou']

#: The smallest detection the HDA benchmark keeps (dbEval.m: 50 px / 1.25).
MIN_PERSON_HEIGHT = 40.0
#: Width / height of a standing person (dbEval.m's aspectRatio).
PERSON_ASPECT = 0.41


def resize_factors(resize, w: int, h: int) -> Tuple[float, float]:
    """``(sx, sy)`` a ``Resize`` (mmcv's transform, or its config dict) applies to a
    ``w x h`` image: mmcv's ``rescale_size`` rule with ``keep_ratio``, else the plain
    ratio; ``(1, 1)`` for None."""
    if resize is None:
        return 1.0, 1.0
    get = resize.get if isinstance(resize, dict) else (lambda k, d=None: getattr(resize, k, d))
    scale, keep_ratio, sf = get('scale'), get('keep_ratio', False), get('scale_factor')
    if scale is not None:
        if keep_ratio:
            import mmcv
            _, s = mmcv.rescale_size((w, h), tuple(scale), return_scale=True)
            return s, s
        return scale[0] / w, scale[1] / h
    if sf is None:
        return 1.0, 1.0
    if keep_ratio:
        import mmcv
        _, s = mmcv.rescale_size((w, h), sf, return_scale=True)
        return s, s
    return (sf[0], sf[1]) if isinstance(sf, (tuple, list)) else (sf, sf)


def centred_anchor_ious(boxes_wh: np.ndarray, anchors_wh: np.ndarray) -> np.ndarray:
    """``(n, k)`` IoU of ``n`` boxes ``(w, h)`` with ``k`` anchors ``(w, h)``, every anchor
    centred on the box: whether an anchor of the right size and shape exists at all,
    wherever the grid puts it."""
    b = np.asarray(boxes_wh, np.float64).reshape(-1, 2)
    a = np.asarray(anchors_wh, np.float64).reshape(-1, 2)
    inter = np.minimum(b[:, None, 0], a[None, :, 0]) * np.minimum(b[:, None, 1], a[None, :, 1])
    return inter / ((b[:, 0] * b[:, 1])[:, None] + (a[:, 0] * a[:, 1])[None] - inter)


def best_centred_anchor_iou(box_wh: Tuple[float, float], anchors_wh: np.ndarray) -> float:
    """Largest :func:`centred_anchor_ious` of one ``w x h`` box."""
    return float(centred_anchor_ious(np.asarray(box_wh), anchors_wh).max())
