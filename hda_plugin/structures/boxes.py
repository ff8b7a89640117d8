"""Boxes as numpy arrays, and their conversions.

``xyxy`` is ``x1, y1, x2, y2`` in pixels; ``xywh`` is the toolbox's (and ``allD.txt``'s)
``x, y, w, h`` with ``x2 = x + w`` (areas ``w * h``, no +1).
"""
import numpy as np

__all__ = ['to_numpy', 'xyxy_to_xywh', 'xywh_to_xyxy', 'normalise_xyxy', 'resize_to_aspect',
           'resize_xywh_to_aspect']


def to_numpy(x) -> np.ndarray:
    """A tensor (any device) or array-like as a numpy array."""
    return x.detach().cpu().numpy() if hasattr(x, 'cpu') else np.asarray(x)


def xyxy_to_xywh(boxes) -> np.ndarray:
    """``x1, y1, x2, y2`` -> float64 ``x, y, w, h`` (the toolbox's boxes)."""
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return np.concatenate([b[:, :2], b[:, 2:] - b[:, :2]], axis=1)


def xywh_to_xyxy(boxes) -> np.ndarray:
    """``x, y, w, h`` -> ``x1, y1, x2, y2`` (``x2 = x + w`` as the toolbox's arithmetic)."""
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return np.concatenate([b[:, :2], b[:, :2] + b[:, 2:]], axis=1)


def normalise_xyxy(boxes) -> np.ndarray:
    """``x1 <= x2`` and ``y1 <= y2`` in every row (corners swapped where a model gave them
    the other way round), same dtype."""
    b = np.asarray(boxes).reshape(-1, 4)
    lo = np.minimum(b[:, :2], b[:, 2:])
    hi = np.maximum(b[:, :2], b[:, 2:])
    return np.concatenate([lo, hi], axis=1).astype(b.dtype, copy=False)


def resize_to_aspect(boxes: np.ndarray, aspect: float) -> np.ndarray:
    """``xyxy`` boxes with the width set to ``aspect * height`` about the same centre
    (``bbApply('resize', bb, 1, 0, aspect)``, applied by the HDA evaluation with
    ``aspect=0.41``)."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4).copy()
    cx = (boxes[:, 0] + boxes[:, 2]) / 2
    w = (boxes[:, 3] - boxes[:, 1]) * aspect
    boxes[:, 0], boxes[:, 2] = cx - w / 2, cx + w / 2
    return boxes


def resize_xywh_to_aspect(boxes_xywh: np.ndarray, aspect: float) -> np.ndarray:
    """``bbApply('resize', bb, 1, 0, aspect)`` on ``xywh`` boxes, with the toolbox's
    arithmetic (``d = h * aspect - w; x = x - d / 2; w = w + d``); height kept."""
    bb = np.array(boxes_xywh, dtype=np.float64).reshape(-1, 4)
    d = bb[:, 3] * aspect - bb[:, 2]
    bb[:, 0] = bb[:, 0] - d / 2
    bb[:, 2] = bb[:, 2] + d
    return bb
