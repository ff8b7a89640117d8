"""The matching and curves of Dollár's Caltech toolbox, which both protocols use
(``bbGt.m`` ``evalRes``/``compRoc`` as in ``vislab-tecnico-lisboa/hda_code``):
:func:`match_batch` for many images and settings at once, :func:`match_image` for one,
the miss-rate/FPPI curves and their log-average.

Boxes here are ``x1, y1, x2, y2`` in pixels with areas ``w * h`` (no +1), as the toolbox's
``[x y w h]`` arithmetic.
"""
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np

__all__ = ['REF_FPPI', 'REF_FPPI_MR4', 'RocCurve', 'MissRateSummary', 'match_image',
           'match_batch', 'miss_rate_fppi', 'roc_curve', 'grouped_roc_curves',
           'per_group_roc_curves', 'log_average_miss_rate', 'zero_miss_rate_warning']

#: The 9 FPPI samples of the Caltech/HDA protocol (MR-2): 10^-2 ... 10^0 in quarter
#: decades (``samples = 10.^(-2:.25:0)`` in dbEval.m).
REF_FPPI = 10.0 ** np.arange(-2.0, 0.0001, 0.25)
#: The 17 samples of MR-4 (10^-4 ... 10^0), the second figure CityPersons and CrowdHuman
#: report.
REF_FPPI_MR4 = 10.0 ** np.arange(-4.0, 0.0001, 0.25)
#: Position of FPPI 10^-1 in :data:`REF_FPPI` (the "MR@0.1" column of the tables).
_FPPI_0_1 = 4


@dataclass
class RocCurve:
    """Miss rate against FPPI (``compRoc``): one entry per detection taking part, highest
    score first; ``score`` the threshold of each point."""
    fppi: np.ndarray
    miss_rate: np.ndarray
    score: np.ndarray
    recall: np.ndarray
    precision: np.ndarray


@dataclass
class MissRateSummary:
    """The log-average miss rate of one group of images (all, the pool, a camera), in
    one protocol (and one setting).

    Attributes:
        group: ``'all'`` or ``'pool'`` (every image of the evaluation), or ``'camNN'``.
        num_images: images of the group, with or without detections.
        num_gt: regular (not ignored) ground truths.
        mr2: log-average miss rate over FPPI 10^-2..10^0 (:data:`REF_FPPI`).
        ref_miss_rate: the miss rate at each FPPI of :data:`REF_FPPI` (before any floor).
        mr4: ``caltech``: the same over 10^-4..10^0 (:data:`REF_FPPI_MR4`); else None.
        num_dt: ``hda-benchmark``: detections taking part (>= 40 px); else None.
        setting: ``caltech``: the Dollár setting (None: the metric's own options).
        cameras: ``hda-benchmark``: the cameras of the group.
        curve: the whole curve where it was asked for, else None.
    """
    group: str
    num_images: int
    num_gt: int
    mr2: float
    ref_miss_rate: np.ndarray
    mr4: Optional[float] = None
    num_dt: Optional[int] = None
    setting: Optional[str] = None
    cameras: Tuple[int, ...] = ()
    curve: Optional[RocCurve] = None

    @property
    def miss_rate_at_fppi_0_1(self) -> float:
        """The miss rate at 0.1 false positives per image (one of the MR-2 samples)."""
        return float(self.ref_miss_rate[_FPPI_0_1])


def match_image(dets: np.ndarray, scores: np.ndarray, gts: np.ndarray,
                gt_ignore: np.ndarray, thr: float = 0.5) -> Tuple[np.ndarray, np.ndarray]:
    """Matches one image's detections to its ground truth (``bbGt.evalRes``).

    Highest scores first; each regular ground truth is matched at most once, ignore regions
    any number of times; a detection takes the regular ground truth it overlaps most (at
    least ``thr``), else the ignore region it overlaps most (intersection over its own
    area, at least ``thr``); matches to regular ground truths are preferred. Ties in score
    keep the given order. One image of :func:`match_batch`.

    Returns:
        ``(dt_match, gt_match)`` in the given orders: detections 1 true positive, 0 false
        positive, -1 matched an ignore region (neither); ground truths 1 matched, 0 missed,
        -1 ignore region.
    """
    dets = np.asarray(dets, dtype=np.float64).reshape(-1, 4)
    gts = np.asarray(gts, dtype=np.float64).reshape(-1, 4)
    ign = np.asarray(gt_ignore, dtype=bool).reshape(-1)
    dt_match, gt_match = match_batch(
        dets, np.asarray(scores, dtype=np.float64).reshape(-1), np.zeros(len(dets), np.int64),
        gts, gts, np.zeros(len(gts), np.int64), np.ones((1, len(dets)), bool), ~ign[None],
        thr)
    return dt_match[0], gt_match[0]



def _padded(boxes: np.ndarray, img: np.ndarray, lo: int, hi: int):
    """Boxes of images ``lo..hi-1`` as ``(images, most per image, 4)`` (padding: NaN, which
    overlaps nothing), with the global index of each slot (-1 for padding)."""
    start = np.searchsorted(img, np.arange(lo, hi + 1))
    count = np.diff(start)
    width = int(count.max(initial=0))
    slot = np.arange(width)[None, :]
    index = np.where(slot < count[:, None], start[:-1, None] + slot, -1)
    out = np.full((hi - lo, width, 4), np.nan)
    ok = index >= 0
    out[ok] = boxes[index[ok]]
    return out, index


def _intersections(d: np.ndarray, g: np.ndarray) -> np.ndarray:
    """``(images, D, G)`` intersection areas of padded boxes (0 where ``compOa``'s ``w <= 0``
    or ``h <= 0``; NaN padding intersects nothing)."""
    with np.errstate(invalid='ignore'):
        iw = np.minimum(d[:, :, None, 2], g[:, None, :, 2]) - np.maximum(
            d[:, :, None, 0], g[:, None, :, 0])
        ih = np.minimum(d[:, :, None, 3], g[:, None, :, 3]) - np.maximum(
            d[:, :, None, 1], g[:, None, :, 1])
        return np.where((iw > 0) & (ih > 0), iw * ih, 0.0)


def _candidates(dets, det_img, gts_regular, gts_ignore, gt_img, any_ignore, thr, max_pairs):
    """(detection, ground truth) pairs of the same image with IoU >= ``thr`` against
    ``gts_regular`` and, for ground truths that are an ignore region in some setting
    (``any_ignore``), intersection over the detection's area >= ``thr`` against
    ``gts_ignore`` (``bbGt.compOa``). Images are handled in chunks of about ``max_pairs``
    padded pairs, each as one broadcast; an image with more pairs than that alone is cut
    into blocks of its detections and ground truths, so memory is bounded for any one
    image (40,000 detections x 1,000 ground truths took 2 GB as one chunk). The pairs
    found are the same however the work is cut; their order is not (the caller sorts)."""
    n_images = int(max(det_img.max(initial=-1), gt_img.max(initial=-1))) + 1
    nd = np.bincount(det_img, minlength=n_images)
    ng = np.bincount(gt_img, minlength=n_images)
    d_start = np.searchsorted(det_img, np.arange(n_images + 1))
    g_start = np.searchsorted(gt_img, np.arange(n_images + 1))
    use_ignore = bool(any_ignore.any())
    max_pairs = max(int(max_pairs), 1)
    out = ([], [], [], [], [])
    lo = 0
    while lo < n_images:
        if int(nd[lo]) * int(ng[lo]) > max_pairs:  # one image too many: blocks of it
            g_step = min(int(ng[lo]), max_pairs)
            d_step = max(max_pairs // g_step, 1)
            for d0 in range(d_start[lo], d_start[lo + 1], d_step):
                d1 = min(d0 + d_step, d_start[lo + 1])
                for g0 in range(g_start[lo], g_start[lo + 1], g_step):
                    g1 = min(g0 + g_step, g_start[lo + 1])
                    d_idx, g_idx = np.arange(d0, d1)[None], np.arange(g0, g1)[None]
                    _pairs(dets[d0:d1][None], d_idx, gts_regular[g0:g1][None], g_idx,
                           gts_ignore[g0:g1][None] if use_ignore else None, any_ignore, thr,
                           out)
            lo += 1
            continue
        # grow the chunk while its padded size stays under max_pairs
        hi = lo + 1
        step = 256
        while hi < n_images:
            nxt = min(hi + step, n_images)
            if (nxt - lo) * int(nd[lo:nxt].max()) * int(ng[lo:nxt].max()) > max_pairs:
                break
            hi = nxt
        if nd[lo:hi].any() and ng[lo:hi].any():
            d, d_idx = _padded(dets, det_img, lo, hi)
            g, g_idx = _padded(gts_regular, gt_img, lo, hi)
            gi = _padded(gts_ignore, gt_img, lo, hi)[0] if use_ignore else None
            _pairs(d, d_idx, g, g_idx, gi, any_ignore, thr, out)
        lo = hi
    reg_d, reg_g = _cat(out[0], np.int64), _cat(out[1], np.int64)
    reg_v = _cat(out[2], np.float64)
    keep = reg_v >= thr  # the exact ratio decides, as compOa's i / u
    return reg_d[keep], reg_g[keep], reg_v[keep], _cat(out[3], np.int64), _cat(out[4], np.int64)


def _pairs(d, d_idx, g, g_idx, gi, any_ignore, thr, out) -> None:
    """The candidate pairs of one chunk, ``(images, D, 4)`` detections ``d`` against
    ``(images, G, 4)`` ground truths ``g`` (regular) and ``gi`` (as ignore regions; None
    when no ground truth is one), with the global indices ``d_idx``, ``g_idx`` (-1:
    padding), appended to ``out`` (see :func:`_candidates`)."""
    area_d = ((d[..., 2] - d[..., 0]) * (d[..., 3] - d[..., 1]))[:, :, None]
    area_g = ((g[..., 2] - g[..., 0]) * (g[..., 3] - g[..., 1]))[:, None, :]
    inter = _intersections(d, g)
    # candidates by a product a hair looser than thr; the exact ratio decides
    i, a, b = np.nonzero((inter > 0) & (inter >= (thr - 1e-9) * (area_d + area_g - inter)))
    u = area_d[i, a, 0] + area_g[i, 0, b] - inter[i, a, b]
    out[0].append(d_idx[i, a]), out[1].append(g_idx[i, b])
    out[2].append(inter[i, a, b] / u)
    del inter
    if gi is not None:
        gi = gi.copy()
        gi[~np.where(g_idx >= 0, any_ignore[np.maximum(g_idx, 0)], False)] = np.nan
        inter = _intersections(d, gi)
        i, a, b = np.nonzero((inter > 0) & (inter >= (thr - 1e-9) * area_d))
        keep = inter[i, a, b] / area_d[i, a, 0] >= thr
        out[3].append(d_idx[i, a][keep]), out[4].append(g_idx[i, b][keep])


def _cat(parts, dtype) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)


def _greedy(pr, pd, pg, n_dets, n_gts) -> Tuple[np.ndarray, np.ndarray]:
    """``evalRes``'s greedy assignment of candidate pairs, all images at once.

    ``pd, pg``: candidate (detection, regular ground truth, overlap >= thr) pairs,
    sorted by (detection rank, overlap, ground truth index); ``pr`` the rank of each
    pair's detection (its order inside the image is what matters). Each detection, in rank order,
    takes the untaken ground truth of highest overlap (the later one on equal overlaps, as
    the toolbox's ``>=`` scan). Done in rounds: a detection whose best untaken ground truth
    is wanted by no undecided detection ranked before it gets exactly what the sequential
    loop would give it (nothing ranked earlier can take that ground truth, and a subset of
    its candidates still holding the best keeps it best); each round settles at least the
    first undecided detection of every image.
    """
    det_tp = np.zeros(n_dets, dtype=bool)
    gt_taken = np.zeros(n_gts, dtype=bool)
    big = np.iinfo(np.int64).max
    alive = np.ones(len(pd), dtype=bool)
    while True:
        idx = np.flatnonzero(alive)
        if not len(idx):
            break
        d_alive = pd[idx]
        last = np.ones(len(idx), dtype=bool)
        last[:-1] = d_alive[1:] != d_alive[:-1]  # the last pair of a detection: its best
        prop = idx[last]
        first_rank = np.full(n_gts, big, dtype=np.int64)
        np.minimum.at(first_rank, pg[idx], pr[idx])
        safe = prop[first_rank[pg[prop]] == pr[prop]]
        det_tp[pd[safe]] = True
        gt_taken[pg[safe]] = True
        alive[idx] = ~(det_tp[d_alive] | gt_taken[pg[idx]])
    return det_tp, gt_taken


def match_batch(dets: np.ndarray, scores: np.ndarray, det_img: np.ndarray,
                gts_regular: np.ndarray, gts_ignore: np.ndarray, gt_img: np.ndarray,
                det_keep: np.ndarray, gt_regular: np.ndarray, thr: float = 0.5,
                max_pairs: int = 4_000_000) -> Tuple[np.ndarray, np.ndarray]:
    """``bbGt.evalRes`` on many images and several settings in one pass.

    Overlaps are computed once per (detection, ground truth) pair of an image; each
    setting then differs only in which detections take part and which ground truths are
    regular (the rest are ignore regions).

    Args:
        dets: ``(N, 4)`` ``x1, y1, x2, y2``, grouped by image (``det_img`` ascending; the
            order inside an image is the tie order of equal scores).
        scores: ``(N,)``.
        det_img: ``(N,)`` image index of each detection.
        gts_regular: ``(M, 4)`` ground truth boxes as matched when regular (IoU), e.g.
            resized to the benchmark's aspect ratio; grouped by image.
        gts_ignore: ``(M, 4)`` the same boxes as matched when ignore regions (intersection
            over the detection's area).
        gt_img: ``(M,)`` image index of each ground truth.
        det_keep: ``(S, N)`` bool, detections taking part in setting ``s``.
        gt_regular: ``(S, M)`` bool, regular ground truths of setting ``s`` (the others
            are ignore regions there).
        thr: overlap threshold.
        max_pairs: pairs computed at a time (memory bound).

    Returns:
        ``(dt_match, gt_match)``, ``(S, N)`` and ``(S, M)`` int8: detections 1 true
        positive, 0 false positive, -1 matched an ignore region, -2 not taking part;
        ground truths 1 matched, 0 missed, -1 ignore region.
    """
    dets = np.asarray(dets, dtype=np.float64).reshape(-1, 4)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    det_img = np.asarray(det_img, dtype=np.int64).reshape(-1)
    gt_img = np.asarray(gt_img, dtype=np.int64).reshape(-1)
    det_keep = np.atleast_2d(np.asarray(det_keep, dtype=bool))
    gt_regular = np.atleast_2d(np.asarray(gt_regular, dtype=bool))
    n, m, n_set = len(dets), len(gt_img), len(det_keep)
    if det_keep.shape != (n_set, n) or gt_regular.shape != (n_set, m):
        raise ValueError(f'match_batch: det_keep {det_keep.shape} and gt_regular '
                         f'{gt_regular.shape}: expected ({n_set}, {n}) and ({n_set}, {m}).')
    if len(det_img) and np.any(np.diff(det_img) < 0) or len(gt_img) and np.any(
            np.diff(gt_img) < 0):
        raise ValueError('match_batch: detections and ground truths must be grouped by '
                         'image (image indices ascending).')
    reg_d, reg_g, reg_v, ign_d, ign_g = _candidates(
        dets, det_img, np.asarray(gts_regular, dtype=np.float64).reshape(-1, 4),
        np.asarray(gts_ignore, dtype=np.float64).reshape(-1, 4), gt_img,
        ~gt_regular.all(axis=0), thr, max_pairs)
    # pairs by detection rank = (image, score descending, given order), what evalRes's
    # stable descending sort gives inside each image, then overlap, then ground truth
    srt = np.lexsort((reg_g, reg_v, reg_d, -scores[reg_d], det_img[reg_d]))
    reg_d, reg_g, reg_v = reg_d[srt], reg_g[srt], reg_v[srt]
    rank = np.cumsum(np.r_[True, reg_d[1:] != reg_d[:-1]]) if len(reg_d) else reg_d
    dt_match = np.zeros((n_set, n), dtype=np.int8)
    gt_match = np.zeros((n_set, m), dtype=np.int8)
    for s in range(n_set):
        k = det_keep[s][reg_d] & gt_regular[s][reg_g]
        tp, taken = _greedy(rank[k], reg_d[k], reg_g[k], n, m)
        ign_hit = np.zeros(n, dtype=bool)
        ki = ~gt_regular[s][ign_g]
        ign_hit[ign_d[ki]] = True
        dt_match[s] = np.where(~det_keep[s], -2, np.where(tp, 1, np.where(ign_hit, -1, 0)))
        gt_match[s] = np.where(gt_regular[s], taken.astype(np.int8), -1)
    return dt_match, gt_match


def miss_rate_fppi(scores: Sequence[np.ndarray], dt_matches: Sequence[np.ndarray],
                   num_gt: int, num_images: int) -> RocCurve:
    """Miss rate against false positives per image over a set of images (``compRoc``).

    Args:
        scores, dt_matches: per image, in image order, the detections' scores and their
            :func:`match_image` flags.
        num_gt: regular (not ignored) ground truths in the set.
        num_images: images in the set, with or without detections.

    Returns:
        :class:`RocCurve`: one entry per detection, highest score first (stable for ties,
        image order).
    """
    if not len(scores):
        return roc_curve(np.zeros(0), np.zeros(0, np.int8), num_gt, num_images)
    s = np.concatenate([np.asarray(x, dtype=np.float64).reshape(-1) for x in scores])
    m = np.concatenate([np.asarray(y).reshape(-1) for y in dt_matches])
    order = np.argsort(-s, kind='stable')
    return roc_curve(s[order], m[order], num_gt, num_images)


def roc_curve(scores: np.ndarray, dt_match: np.ndarray, num_gt: int,
              num_images: int) -> RocCurve:
    """``compRoc`` on detections already in its order.

    ``compRoc`` concatenates the images' detections, each image's sorted by score (stable),
    and sorts them again by score (stable): the order is (score descending, image, position
    in the image), which ``np.argsort(-scores, kind='stable')`` gives for detections laid
    out image after image. Detections flagged -1 (ignore region) or -2 (not taking part)
    are left out.
    """
    return grouped_roc_curves(scores, dt_match, [0, len(scores)], [num_gt], [num_images])[0]


def grouped_roc_curves(scores: np.ndarray, dt_match: np.ndarray, bounds: Sequence[int],
                       num_gt: Sequence[int], num_images: Sequence[int]) -> List[RocCurve]:
    """:func:`roc_curve` of each group of detections (e.g. cameras) in one pass.

    ``scores`` and ``dt_match`` are sorted by group, and by compRoc's order inside each
    group (a stable sort by group of compRoc's order gives that); group ``k`` is
    ``bounds[k]:bounds[k + 1]``.
    """
    idx = np.flatnonzero(np.asarray(dt_match) >= 0)
    kb = np.searchsorted(idx, np.asarray(bounds))
    s = np.asarray(scores, dtype=np.float64)[idx]
    tp_all = np.concatenate([[0], np.cumsum(np.asarray(dt_match)[idx] == 1)])
    out = []
    for k, (n_gt, n_img) in enumerate(zip(num_gt, num_images)):
        a, b = kb[k], kb[k + 1]
        tp_c = tp_all[a + 1:b + 1] - tp_all[a]
        fp_c = np.arange(1, b - a + 1) - tp_c
        with np.errstate(divide='ignore', invalid='ignore'):
            recall = tp_c / n_gt if n_gt else np.full(len(tp_c), np.nan)
            precision = tp_c / np.maximum(tp_c + fp_c, 1)
        out.append(RocCurve(fppi=fp_c / max(n_img, 1), miss_rate=1 - recall, score=s[a:b],
                            recall=recall, precision=precision))
    return out


def per_group_roc_curves(scores: np.ndarray, dt_match: np.ndarray, det_group: np.ndarray,
                         num_gt: Sequence, num_images: Sequence[int],
                         order: Optional[np.ndarray] = None) -> list:
    """:func:`roc_curve` of each group of detections (e.g. each camera), every group in
    compRoc's order, from one sort.

    Args:
        scores: ``(N,)`` detections' scores, image after image.
        dt_match: ``(N,)`` match flags, or ``(S, N)`` for ``S`` settings sharing the
            detections and groups.
        det_group: ``(N,)`` group of each detection, ``0..G-1`` with ``G = len(num_images)``
            (``G`` or more: in no group).
        num_gt: ``(G,)`` regular ground truths per group, or ``(S, G)``.
        num_images: ``(G,)`` images per group.
        order: ``np.argsort(-scores, kind='stable')`` when the caller has it.

    Returns:
        ``G`` :class:`RocCurve`, or ``S`` lists of them for a 2-D ``dt_match``.
    """
    scores = np.asarray(scores, dtype=np.float64)
    det_group = np.asarray(det_group, dtype=np.int64)
    if order is None:
        order = np.argsort(-scores, kind='stable')
    # compRoc's order over all detections, then the same order group by group
    by_group = order[np.argsort(det_group[order], kind='stable')]
    bounds = np.searchsorted(det_group[by_group], np.arange(len(num_images) + 1))
    matches = np.asarray(dt_match)
    if matches.ndim == 1:
        return grouped_roc_curves(scores[by_group], matches[by_group], bounds, list(num_gt),
                                  list(num_images))
    return [grouped_roc_curves(scores[by_group], m[by_group], bounds, list(g),
                               list(num_images)) for m, g in zip(matches, num_gt)]


def log_average_miss_rate(fppi: np.ndarray, miss_rate: np.ndarray,
                          ref: Optional[np.ndarray] = None,
                          floor: float = 0.0) -> Tuple[float, np.ndarray]:
    """``MR-2 = exp(mean(log(max(floor, miss rate at ref))))``, each sample taken at the last
    curve point whose FPPI does not exceed it (miss rate 1 before the first point). With
    ``floor=0`` (dbEval.m) a zero sample makes the result 0; each protocol states its floor
    (:mod:`.protocols`) and :func:`zero_miss_rate_warning` says when it mattered.

    Returns:
        ``(mr2, miss rates at ref)`` (the samples before the floor).
    """
    ref = REF_FPPI if ref is None else np.asarray(ref, dtype=np.float64)
    if len(fppi) == 0:
        samples = np.ones(len(ref))
    else:
        xs = np.concatenate([[-np.inf], fppi])
        ys = np.concatenate([[1.0], miss_rate])
        idx = np.searchsorted(xs, ref, side='right') - 1  # last xs <= ref
        samples = ys[idx]
    with np.errstate(divide='ignore', invalid='ignore'):
        return float(np.exp(np.mean(np.log(np.maximum(samples, floor))))), samples


def zero_miss_rate_warning(samples: np.ndarray, ref: np.ndarray, where: str,
                           rule: str) -> Optional[str]:
    """A message when a sampled miss rate is 0 (every person found at that FPPI), or None."""
    zero = np.asarray(samples) == 0
    if not zero.any():
        return None
    at = ', '.join(f'{f:.3g}' for f in np.asarray(ref)[zero])
    return (f'{where}: the miss rate is 0 at FPPI {at} ({int(zero.sum())} of {len(zero)} '
            f'reference points); {rule}.')
