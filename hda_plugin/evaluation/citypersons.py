"""The ``citypersons`` protocol: what the official CityPersons script computes, on arrays.

The script is ``evaluation/eval_script/eval_MR_multisetup.py`` of cvgroup-njust/CityPersons
(a COCO-eval derivative, run once per setup by its ``eval_demo.py``, which reloads the
ground truth each time). Per setup it does, and :func:`evaluate_citypersons` does the same:

1. **Ground truth.** Every annotation of the official ``val_gt.json`` has category 1; the
   JSON's ``ignore`` is 1 for everything but a pedestrian (riders, sitting persons, other
   persons, person groups, ignore regions). ``_prepare`` then also sets ``ignore`` for a
   person whose ``height`` (the full box's height) or ``vis_ratio`` (visible box area over
   full box area) lies outside the setup's closed ranges
   (:data:`~.protocols.CITYPERSONS_SETUPS`). Here: ``persons`` are the pedestrians, regular
   when inside the ranges; ``ignores`` are the ignore regions (the data set this project
   pairs it with puts ``rider``, ``sitting person``, ``person (other)``, ``person group``
   and ``ignore`` into ``ignored_instances``).
2. **Detections per image.** Sorted by score (stable: ties keep the given order), the
   first 1,000 kept, *then* those with ``lo / 1.25 <= h < hi * 1.25`` (``h`` the box
   height) kept.
3. **Matching per image** (``evaluateImg``), regular ground truths before ignore ones,
   highest-scored detection first: a detection takes the not yet matched regular person
   of highest IoU, at least 0.5 (on equal IoU the later person, as the script's
   ``ious < bstOa`` scan); failing that it sits on an ignore region when its intersection
   over the *detection's* area (``iscrowd`` rule, used for every ignore ground truth,
   setup-ignored persons included) is at least 0.5, and then counts neither as a true nor
   as a false positive. Ignore regions take any number of detections. Boxes go through
   ``x, y, w, h`` as in the result JSON (``w = x2 - x1``, the far edge ``x + w``), so
   overlaps equal the script's to the last bit.
4. **Curve** (``accumulate``): every image's detections concatenated in image order,
   sorted by score (stable), those on ignore regions removed; recall = TP / regular
   persons, FPPI = FP / *all* images (with or without ground truth or detections).
5. **Sampling** at the script's 9 FPPI points (``0.0100, 0.0178, ... 1.0000``, rounded as
   written there, not ``10 ** -1.75``): ``i = searchsorted(fppi, ref, side='right') - 1``,
   the recall at ``i``. **Quirk reproduced**: where the first detection taking part is a
   false positive and ``1 / images > ref``, ``i`` is -1 and Python reads the *last*
   recall of the curve (the highest), not 0: those points get the final miss rate
   instead of 1. The first false positive sits at FPPI ``1 / images``, so only sets of
   fewer than 100 images are affected (never the 500-image val set).
   :attr:`CityPersonsSetup.quirk_points` counts them. With no detection
   taking part the script's ``try/except`` leaves every sample at recall 0 (MR 1).
6. **MR** = ``exp(mean(log(1 - recall)))`` over the 9 samples, no floor: one sample with
   every person found makes it 0 (Pedestron's copy clips the recall to ``1 - 1e-6``
   instead, so it reports at least 1e-6 there; otherwise the same numbers). A setup with
   no regular person: the script prints -1 (``-100.00%``); here MR is NaN.

Visibility: persons without one (``visibility`` None, NaN, or +inf, Dollár's "posv not
set") count as fully visible (1.0), and are counted (``missing_visibility``). The ranges
are compared at the precision of the visibility given: ``PackHDADetInputs`` packs float32,
and a ``vis_ratio`` of exactly 0.65 must not become 0.6499999762 < 0.65.

Why not :mod:`.functional`'s matching: its greedy assignment is the same rule (this script
is a port of Dollár's ``evalRes``), but it computes overlaps from ``x1 y1 x2 y2`` (a last
bit away from the script's ``x + w`` on IoU 0.5 boundaries), has no 1,000-detection cap
and its sampling reads miss rate 1 before the first point where this script reads the
last one.
"""
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import List, Optional, Sequence

import numpy as np

from .protocols import CITYPERSONS, citypersons_setup

__all__ = ['CityPersonsImage', 'CityPersonsSetup', 'CityPersonsEvaluation',
           'evaluate_citypersons', 'CITYPERSONS_FPPI']

#: The script's 9 FPPI points (``Params.fppiThrs``).
CITYPERSONS_FPPI = np.array(CITYPERSONS['fppi'], dtype=np.float64)


@dataclass
class CityPersonsImage:
    """One image as the ``citypersons`` protocol takes it (boxes ``x1 y1 x2 y2`` in the
    original image's pixels).

    Attributes:
        dets: ``(D, 4)`` detections of the person class.
        scores: ``(D,)`` their scores.
        persons: ``(P, 4)`` pedestrians, full boxes (regular or, outside a setup's
            ranges, ignored there).
        visibility: ``(P,)`` visible box area over full box area, or None (all
            missing: fully visible, counted).
        ignores: ``(R, 4)`` ignore regions (every other person class and ``ignore``).
        name: what errors call the image (its path or id).
    """
    dets: np.ndarray
    scores: np.ndarray
    persons: np.ndarray
    visibility: Optional[np.ndarray]
    ignores: np.ndarray
    name: str = ''


@dataclass
class CityPersonsSetup:
    """One setup's result.

    Attributes:
        setup: the key (``Reasonable``, ``Small``, ``Heavy``, ``All``).
        label: the script's name for it (``Reasonable_small``, ...).
        mr: log-average miss rate, a fraction (0.112 for the script's 11.20 %); NaN when
            there is no regular person (the script: -1).
        num_persons: regular persons.
        num_images: images (all, the FPPI denominator).
        num_dets: detections on the curve (kept, not on an ignore region).
        dets_out_of_range: detections dropped by the widened height range.
        dets_on_ignore: detections on an ignore region (left off the curve).
        fppi, miss_rate, scores: the curve, one point per detection on it, highest score
            first.
        ref_fppi: the 9 FPPI points; ref_miss_rate: the miss rate read at each.
        quirk_points: points read at index -1 (first detection a false positive): the
            last miss rate of the curve, as the script does.
    """
    setup: str
    label: str
    mr: float
    num_persons: int
    num_images: int
    num_dets: int
    dets_out_of_range: int
    dets_on_ignore: int
    fppi: np.ndarray
    miss_rate: np.ndarray
    scores: np.ndarray
    ref_fppi: np.ndarray
    ref_miss_rate: np.ndarray
    quirk_points: int


@dataclass
class CityPersonsEvaluation:
    """What :func:`evaluate_citypersons` computed: per setup its result; the persons
    without a visible fraction (counted as 1.0) and the detections past the 1,000 per
    image cap (never evaluated, as in the script)."""
    setups: 'OrderedDict[str, CityPersonsSetup]' = field(default_factory=OrderedDict)
    missing_visibility: int = 0
    dets_over_cap: int = 0

    @property
    def metrics(self) -> 'OrderedDict[str, float]':
        """setup -> MR (fraction)."""
        return OrderedDict((k, s.mr) for k, s in self.setups.items())


def _boxes(a, what: str, name: str, n: Optional[int] = None) -> np.ndarray:
    out = np.asarray(a, dtype=np.float64)
    if out.size == 0:
        out = out.reshape(0, 4)
    if out.ndim != 2 or out.shape[1] != 4 or (n is not None and len(out) != n):
        raise ValueError(f'citypersons: image {name}: {what} has shape {np.shape(a)}; '
                         f'expected ({n if n is not None else "N"}, 4) x1 y1 x2 y2 boxes.')
    if not np.isfinite(out).all():
        raise ValueError(f'citypersons: image {name}: {what} holds NaN/Inf coordinates; '
                         'the boxes must be finite (a broken model or annotation).')
    return out


def _xywh(b: np.ndarray) -> np.ndarray:
    """``x y w h`` as the JSON files hold them."""
    return np.concatenate([b[:, :2], b[:, 2:] - b[:, :2]], axis=1)


def _overlaps(d: np.ndarray, g: np.ndarray):
    """``(D, G)`` IoU and intersection over the detection's area, with the script's
    arithmetic on ``x y w h`` (0 where the boxes do not overlap)."""
    dx1, dy1 = d[:, None, 0], d[:, None, 1]
    dx2, dy2 = dx1 + d[:, None, 2], dy1 + d[:, None, 3]
    gx1, gy1 = g[None, :, 0], g[None, :, 1]
    gx2, gy2 = gx1 + g[None, :, 2], gy1 + g[None, :, 3]
    darea = d[:, None, 2] * d[:, None, 3]
    garea = g[None, :, 2] * g[None, :, 3]
    uw = np.minimum(dx2, gx2) - np.maximum(dx1, gx1)
    uh = np.minimum(dy2, gy2) - np.maximum(dy1, gy1)
    ok = (uw > 0) & (uh > 0)
    t = np.where(ok, uw * uh, 0.0)
    with np.errstate(divide='ignore', invalid='ignore'):
        iou = np.where(ok, t / (darea + garea - t), 0.0)
        ioa = np.where(ok, t / darea, 0.0)
    return iou, ioa


@dataclass
class _Prepared:
    """One image, setup-independent: detections in the script's order (capped), persons,
    overlaps."""
    scores: np.ndarray
    det_h: np.ndarray
    person_h: np.ndarray
    vis: np.ndarray
    iou_p: np.ndarray  # (D, P) IoU with persons
    ioa_p: np.ndarray  # (D, P) intersection over detection, persons as ignore regions
    ioa_r: np.ndarray  # (D, R) same with the ignore regions
    over_cap: int


def _prepare(img: CityPersonsImage, index: int, max_dets: int):
    name = f'{index} ({img.name})' if img.name else str(index)
    dets = _boxes(img.dets, 'dets', name)
    scores = np.asarray(img.scores).reshape(-1)
    if len(scores) != len(dets) or not np.isfinite(scores.astype(np.float64)).all():
        raise ValueError(f'citypersons: image {name}: {len(scores)} scores for {len(dets)} '
                         'detections, or NaN/Inf scores; expected one finite score each.')
    persons = _boxes(img.persons, 'persons', name)
    ignores = _boxes(img.ignores, 'ignores', name)
    if img.visibility is None:
        vis = np.full(len(persons), np.nan)
    else:
        vis = np.asarray(img.visibility).reshape(-1)
        if len(vis) != len(persons):
            raise ValueError(f'citypersons: image {name}: {len(vis)} visible fractions for '
                             f'{len(persons)} persons; expected one each (or None).')
        if not np.issubdtype(vis.dtype, np.floating):
            vis = vis.astype(np.float64)
    missing = np.isnan(vis) | np.isposinf(vis)
    vis = np.where(missing, np.asarray(1.0, vis.dtype), vis)
    order = np.argsort(-scores, kind='mergesort')
    over_cap = max(len(order) - max_dets, 0)
    order = order[:max_dets]
    d = _xywh(dets[order])
    p, r = _xywh(persons), _xywh(ignores)
    iou_p, ioa_p = _overlaps(d, p)
    ioa_r = _overlaps(d, r)[1]
    return _Prepared(scores[order], d[:, 3], p[:, 3], vis, iou_p, ioa_p, ioa_r,
                     over_cap), int(missing.sum())


def _match(iou: np.ndarray, ign_hit: np.ndarray, thr: float) -> np.ndarray:
    """The script's per-image assignment: detections (rows, score order) 1 true positive,
    0 false positive, -1 on an ignore region. ``iou`` against the regular persons,
    ``ign_hit`` whether some ignore ground truth overlaps it by ``thr``."""
    state = np.where(ign_hit, -1, 0).astype(np.int8)
    if iou.shape[1] == 0:
        return state
    cand = iou >= thr
    taken = np.zeros(iou.shape[1], dtype=bool)
    for i in np.flatnonzero(cand.any(axis=1)):
        avail = cand[i] & ~taken
        if not avail.any():
            continue
        v = np.where(avail, iou[i], -np.inf)
        j = len(v) - 1 - int(np.argmax(v[::-1]))  # the later person on equal IoU
        taken[j] = True
        state[i] = 1
    return state


def _summary(name: str, s: dict, scores: List[np.ndarray], states: List[np.ndarray],
             n_persons: int, n_images: int, out_of_range: int) -> CityPersonsSetup:
    sc = np.concatenate(scores) if scores else np.zeros(0)
    st = np.concatenate(states) if states else np.zeros(0, np.int8)
    order = np.argsort(-sc, kind='mergesort')
    sc, st = sc[order], st[order]
    on_curve = st >= 0
    sc, tp = sc[on_curve], st[on_curve] == 1
    tp_sum = np.cumsum(tp).astype(np.float64)
    fp_sum = np.cumsum(~tp).astype(np.float64)
    fppi = fp_sum / n_images
    ref = CITYPERSONS_FPPI
    if n_persons == 0:
        recall = np.full(len(tp_sum), np.nan)
        mr, samples, quirk = float('nan'), np.full(len(ref), np.nan), 0
    else:
        recall = tp_sum / n_persons
        idx = np.searchsorted(fppi, ref, side='right') - 1
        if len(recall):
            got = recall[idx]  # idx -1: the last recall, as the script's list indexing
            quirk = int((idx < 0).sum())
        else:
            got = np.zeros(len(ref))  # the script's try/except: every sample stays 0
            quirk = 0
        samples = 1 - got
        with np.errstate(divide='ignore'):
            mr = float(np.exp(np.mean(np.log(samples))))
    return CityPersonsSetup(
        setup=name, label=s['label'], mr=mr, num_persons=n_persons, num_images=n_images,
        num_dets=int(on_curve.sum()), dets_out_of_range=out_of_range,
        dets_on_ignore=int((~on_curve).sum()), fppi=fppi, miss_rate=1 - recall, scores=sc,
        ref_fppi=ref.copy(), ref_miss_rate=samples, quirk_points=quirk)


def _regular(s: dict, p: _Prepared) -> np.ndarray:
    (h0, h1), (v0, v1) = s['hr'], s['vr']
    dt = p.vis.dtype
    return ((p.person_h >= h0) & (p.person_h <= h1) & (p.vis >= np.asarray(v0, dt)) &
            (p.vis <= np.asarray(v1, dt)))


def evaluate_citypersons(images: Sequence[CityPersonsImage],
                         setups: Sequence[str] = ('Reasonable', 'Small', 'Heavy', 'All')
                         ) -> CityPersonsEvaluation:
    """The official CityPersons log-average miss rate of each setup (module docstring).

    Args:
        images: every image of the evaluation, with or without ground truth or
            detections (each counts in FPPI's denominator).
        setups: keys of :data:`~.protocols.CITYPERSONS_SETUPS`.

    Returns:
        :class:`CityPersonsEvaluation`, a :class:`CityPersonsSetup` per setup.
    """
    table = OrderedDict((n, citypersons_setup(n)) for n in setups)
    thr = min(CITYPERSONS['iou_thr'], 1 - 1e-10)
    expand = CITYPERSONS['expand']
    prepared, missing = [], 0
    for i, img in enumerate(images):
        p, m = _prepare(img, i, CITYPERSONS['max_dets'])
        prepared.append(p)
        missing += m
    out = CityPersonsEvaluation(missing_visibility=missing,
                                dets_over_cap=sum(p.over_cap for p in prepared))
    for name, s in table.items():
        h0, h1 = s['hr']
        scores, states, n_persons, out_of_range = [], [], 0, 0
        for p in prepared:
            reg = _regular(s, p)
            keep = (p.det_h >= h0 / expand) & (p.det_h < h1 * expand)
            out_of_range += int((~keep).sum())
            n_persons += int(reg.sum())
            ign_hit = (p.ioa_p[keep][:, ~reg] >= thr).any(axis=1) | (
                p.ioa_r[keep] >= thr).any(axis=1)
            states.append(_match(p.iou_p[keep][:, reg], ign_hit, thr))
            scores.append(p.scores[keep])
        out.setups[name] = _summary(name, s, scores, states, n_persons, len(images),
                                    out_of_range)
    return out
