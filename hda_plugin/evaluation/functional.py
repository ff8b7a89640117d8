"""Log-average miss rate as the HDA benchmark computes it (Dollár's Caltech toolbox, used by
``vislab-tecnico-lisboa/hda_code``: ``bbGt.m`` ``evalRes``/``compRoc``, ``dbEval.m``).

Boxes here are ``x1, y1, x2, y2`` in pixels with areas ``w * h`` (no +1), as the toolbox's
``[x y w h]`` arithmetic.
"""
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

__all__ = ['REF_FPPI', 'match_image', 'miss_rate_fppi', 'log_average_miss_rate',
           'resize_to_aspect']

#: The 9 FPPI samples of the Caltech/HDA protocol: 10^-2 ... 10^0 in quarter decades.
REF_FPPI = 10.0 ** np.arange(-2.0, 0.0001, 0.25)


def resize_to_aspect(boxes: np.ndarray, aspect: float) -> np.ndarray:
    """Width set to ``aspect * height`` about the same centre (``bbApply('resize', bb, 1,
    0, aspect)``, applied by the HDA evaluation with ``aspect=0.41``)."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4).copy()
    cx = (boxes[:, 0] + boxes[:, 2]) / 2
    w = (boxes[:, 3] - boxes[:, 1]) * aspect
    boxes[:, 0], boxes[:, 2] = cx - w / 2, cx + w / 2
    return boxes


def _overlaps(dets: np.ndarray, gts: np.ndarray, ignore: np.ndarray) -> np.ndarray:
    """``(D, G)`` overlaps: IoU for regular ground truths, intersection over the
    *detection's* area for ignore regions (``bbGt.compOas``)."""
    ix1 = np.maximum(dets[:, None, 0], gts[None, :, 0])
    iy1 = np.maximum(dets[:, None, 1], gts[None, :, 1])
    ix2 = np.minimum(dets[:, None, 2], gts[None, :, 2])
    iy2 = np.minimum(dets[:, None, 3], gts[None, :, 3])
    inter = np.clip(ix2 - ix1, 0, None) * np.clip(iy2 - iy1, 0, None)
    area_d = ((dets[:, 2] - dets[:, 0]) * (dets[:, 3] - dets[:, 1]))[:, None]
    area_g = ((gts[:, 2] - gts[:, 0]) * (gts[:, 3] - gts[:, 1]))[None, :]
    union = np.where(ignore[None, :], area_d, area_d + area_g - inter)
    with np.errstate(divide='ignore', invalid='ignore'):
        return np.where(union > 0, inter / union, 0.0)


def match_image(dets: np.ndarray, scores: np.ndarray, gts: np.ndarray,
                gt_ignore: np.ndarray, thr: float = 0.5) -> Tuple[np.ndarray, np.ndarray]:
    """Matches one image's detections to its ground truth (``bbGt.evalRes``).

    Highest scores first; each regular ground truth is matched at most once, ignore regions
    any number of times; a detection takes the regular ground truth it overlaps most (at
    least ``thr``), else the ignore region it overlaps most (intersection over its own
    area, at least ``thr``); matches to regular ground truths are preferred. Ties in score
    keep the given order.

    Returns:
        ``(dt_match, gt_match)`` in the given orders: detections 1 true positive, 0 false
        positive, -1 matched an ignore region (neither); ground truths 1 matched, 0 missed,
        -1 ignore region.
    """
    dets = np.asarray(dets, dtype=np.float64).reshape(-1, 4)
    gts = np.asarray(gts, dtype=np.float64).reshape(-1, 4)
    ign = np.asarray(gt_ignore, dtype=bool).reshape(-1)
    nd, ng = len(dets), len(gts)
    dt_match = np.zeros(nd, dtype=np.int8)
    gt_match = np.where(ign, -1, 0).astype(np.int8)
    if nd == 0 or ng == 0:
        return dt_match, gt_match
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind='stable')
    ov = _overlaps(dets[order], gts, ign)
    reg = np.flatnonzero(~ign)
    ov_reg = ov[:, reg]
    ign_best = ov[:, ign].max(axis=1) if ign.any() else np.zeros(nd)
    # Only detections reaching thr with some regular ground truth can take one; for the
    # rest the answer does not depend on the order: ignore region or false positive.
    result = np.where(ign_best >= thr, -1, 0).astype(np.int8)
    taken = [False] * len(reg)
    if len(reg):
        ds, gs = np.nonzero(ov_reg >= thr)  # row-major: by detection (score order), then GT
        vals = ov_reg[ds, gs]
        ds, gs, vals = ds.tolist(), gs.tolist(), vals.tolist()
        i, n = 0, len(ds)
        while i < n:
            d, best, best_v = ds[i], -1, thr
            while i < n and ds[i] == d:
                # the toolbox scans ground truths in order and keeps a later one when its
                # overlap is >= the best so far: on equal overlaps the last one wins
                if not taken[gs[i]] and vals[i] >= best_v:
                    best, best_v = gs[i], vals[i]
                i += 1
            if best >= 0:
                taken[best] = True
                result[d] = 1
    dt_match[order] = result
    gt_match[reg[np.array(taken, dtype=bool)]] = 1
    return dt_match, gt_match


def miss_rate_fppi(scores: Sequence[np.ndarray], dt_matches: Sequence[np.ndarray],
                   num_gt: int, num_images: int) -> Dict[str, np.ndarray]:
    """Miss rate against false positives per image over a set of images (``compRoc``).

    Args:
        scores, dt_matches: per image, in image order, the detections' scores and their
            :func:`match_image` flags.
        num_gt: regular (not ignored) ground truths in the set.
        num_images: images in the set, with or without detections.

    Returns:
        ``fppi``, ``miss_rate``, ``score`` (thresholds), ``recall``, ``precision``: one
        entry per detection, highest score first (stable for ties, image order).
    """
    s = np.concatenate([np.asarray(x, dtype=np.float64)[np.argsort(-np.asarray(
        x, dtype=np.float64), kind='stable')] for x in scores]) if scores else np.zeros(0)
    m = np.concatenate([np.asarray(y)[np.argsort(-np.asarray(x, dtype=np.float64),
                                                 kind='stable')]
                        for x, y in zip(scores, dt_matches)]) if scores else np.zeros(0)
    keep = m != -1
    s, m = s[keep], m[keep]
    order = np.argsort(-s, kind='stable')
    s, tp = s[order], (m[order] == 1)
    tp_c = np.cumsum(tp)
    fp_c = np.cumsum(~tp)
    recall = tp_c / num_gt if num_gt else np.full(len(tp_c), np.nan)
    with np.errstate(divide='ignore', invalid='ignore'):
        precision = tp_c / np.maximum(tp_c + fp_c, 1)
    return dict(fppi=fp_c / max(num_images, 1), miss_rate=1 - recall, score=s,
                recall=recall, precision=precision)


def log_average_miss_rate(fppi: np.ndarray, miss_rate: np.ndarray,
                          ref: Optional[np.ndarray] = None) -> Tuple[float, np.ndarray]:
    """``MR-2 = exp(mean(log(miss rate at ref)))``, each sample taken at the last curve
    point whose FPPI does not exceed it (miss rate 1 before the first point).

    Returns:
        ``(mr2, miss rates at ref)``.
    """
    ref = REF_FPPI if ref is None else np.asarray(ref, dtype=np.float64)
    if len(fppi) == 0:
        samples = np.ones(len(ref))
    else:
        xs = np.concatenate([[-np.inf], fppi])
        ys = np.concatenate([[1.0], miss_rate])
        idx = np.searchsorted(xs, ref, side='right') - 1  # last xs <= ref
        samples = ys[idx]
    with np.errstate(divide='ignore'):
        return float(np.exp(np.mean(np.log(samples)))), samples
