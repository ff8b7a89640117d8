"""The ``caltech`` protocol (:mod:`.protocols`) on many images and settings in one pass:
Dollár's ``filterGtFun`` per setting, one :func:`~.functional.match_batch`, the curves of
every camera of every setting from one sort (:func:`~.functional.per_group_roc_curves`)."""
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import List, Optional, Sequence

import numpy as np
from mmengine.logging import print_log

from ..structures.anchors import PERSON_ASPECT
from ..structures.boxes import resize_to_aspect
from .functional import (
    REF_FPPI,
    REF_FPPI_MR4,
    MissRateSummary,
    log_average_miss_rate,
    match_batch,
    per_group_roc_curves,
    roc_curve,
    zero_miss_rate_warning,
)
from .protocols import CALTECH_MISS_RATE_FLOOR

__all__ = ['CaltechImage', 'CaltechEvaluation', 'setting_masks', 'evaluate_caltech',
           'cat_float']

INF = float('inf')


@dataclass
class CaltechImage:
    """One image as the ``caltech`` protocol takes it (what ``CaltechMetric.process``
    keeps; a dataclass, which MMEngine's ``_to_cpu`` passes through as it is, where it
    would turn a named tuple into a plain one)."""
    camera: str  # 'camNN', or 'all' when the image names no camera
    dets: np.ndarray  # (D, 4) x1 y1 x2 y2
    scores: np.ndarray  # (D,)
    persons: np.ndarray  # (P, 4) x1 y1 x2 y2
    visibility: Optional[np.ndarray]  # (P,) visible fractions, or None (posv not set)
    ignores: np.ndarray  # (R, 4) ignore regions


@dataclass
class CaltechEvaluation:
    """What :func:`evaluate_caltech` computed.

    Attributes:
        metrics: ``<setting>/MR-2[_camNN]`` and ``MR-4`` (no setting prefix for the
            figure without settings).
        summaries: per setting, ``'all'`` then each camera (``setting`` None: the figure
            without settings, its curves kept).
        missing_visibility: persons counted as ``posv`` not set.
    """
    metrics: 'OrderedDict[str, float]' = field(default_factory=OrderedDict)
    summaries: List[MissRateSummary] = field(default_factory=list)
    missing_visibility: int = 0

    @property
    def persons(self) -> 'OrderedDict[Optional[str], OrderedDict[str, int]]':
        """setting -> group -> regular persons."""
        out = OrderedDict()
        for s in self.summaries:
            out.setdefault(s.setting, OrderedDict())[s.group] = s.num_gt
        return out

    @property
    def curves(self) -> 'OrderedDict[str, MissRateSummary]':
        """group -> summary with its curve, of the figure without settings."""
        return OrderedDict((s.group, s) for s in self.summaries
                           if s.setting is None and s.curve is not None)


def cat_float(arrays, width: int = 0) -> np.ndarray:
    """float64 concatenation of per-image arrays (``(0, width)`` / ``(0,)`` when none)."""
    if not arrays:
        return np.zeros((0, width) if width else 0)
    out = np.concatenate(arrays).astype(np.float64)
    return out.reshape(-1, width) if width else out.reshape(-1)


def setting_masks(s: dict, is_person, gts, vis, det_heights, bounds=None):
    """dbEval's ``filterGtFun`` and detection filter for one setting: regular ground truths
    (persons inside the height range ``[lo, hi)``, visible fraction inside ``[lo, hi]`` and,
    with ``ar``, the aspect rule; with ``bounds`` ``(x1, y1, x2, y2)``, dbEval's ``bnds``,
    wholly inside them; all else ignore regions) and the detections kept (height inside the
    range widened by ``filter``)."""
    (h0, h1), (v0, v1), f = s['hr'], s['vr'], s['filter']
    h = gts[:, 3] - gts[:, 1]
    reg = is_person & (h >= h0) & (h < h1) & (vis >= v0) & (vis <= v1)
    if bounds is not None:
        reg &= (gts[:, 0] >= bounds[0]) & (gts[:, 1] >= bounds[1]) & \
            (gts[:, 2] <= bounds[2]) & (gts[:, 3] <= bounds[3])
    if s['ar']:
        with np.errstate(divide='ignore', invalid='ignore'):
            dev = np.abs((gts[:, 2] - gts[:, 0]) / h - PERSON_ASPECT)
        reg &= np.sign(s['ar']) * dev < s['ar']
    return reg, (det_heights >= h0 / f) & (det_heights < h1 * f)


def _assemble(images: Sequence[CaltechImage]):
    """Flat arrays of all images: per image its persons, then its ignore regions."""
    nd = np.array([len(r.dets) for r in images], dtype=np.int64)
    n_person = np.array([len(r.persons) for r in images], dtype=np.int64)
    n_gt = n_person + np.array([len(r.ignores) for r in images], dtype=np.int64)
    det_img = np.repeat(np.arange(len(images)), nd)
    gt_img = np.repeat(np.arange(len(images)), n_gt)
    gts = cat_float([x for r in images for x in (r.persons, r.ignores)], 4)
    gt_start = np.concatenate([[0], np.cumsum(n_gt)[:-1]]).astype(np.int64)
    is_person = (np.arange(len(gt_img)) - gt_start[gt_img]) < n_person[gt_img]
    vis = np.full(len(gts), INF)
    if images:
        vis[is_person] = cat_float([r.visibility if r.visibility is not None else
                                    np.full(len(r.persons), np.nan) for r in images])
    missing = int(np.isnan(vis).sum())  # no field, or NaN: "posv not set"
    vis = np.where(np.isnan(vis), INF, vis)
    return (cat_float([r.dets for r in images], 4), cat_float([r.scores for r in images]),
            det_img, gts, gt_img, is_person, vis, missing)


def evaluate_caltech(images: Sequence[CaltechImage], table: 'OrderedDict[Optional[str], dict]',
                     aspect_ratio: Optional[float] = None,
                     per_camera: bool = True,
                     bounds: Optional[Sequence[float]] = None) -> CaltechEvaluation:
    """MR-2 and MR-4 of each setting of ``table`` (name -> ``CALTECH_SETTINGS`` entry; the
    name None for the figure without settings), overall and per camera; ``bounds`` as
    :func:`setting_masks` (dbEval's ``bnds``; None: no such rule).

    Returns:
        :class:`CaltechEvaluation`: the metrics, a :class:`~.functional.MissRateSummary`
        per setting and group (with its curve for the None setting), the persons without a
        visible fraction.
    """
    dets, scores, det_img, gts, gt_img, is_person, vis, missing = _assemble(images)
    dh = dets[:, 3] - dets[:, 1]
    if aspect_ratio:
        gts_reg, dets_m = resize_to_aspect(gts, aspect_ratio), resize_to_aspect(dets,
                                                                                 aspect_ratio)
    else:
        gts_reg, dets_m = gts, dets
    names = list(table)
    det_keep = np.zeros((len(names), len(dets)), bool)
    gt_regular = np.zeros((len(names), len(gts)), bool)
    for i, name in enumerate(names):
        gt_regular[i], det_keep[i] = setting_masks(table[name], is_person, gts, vis, dh,
                                                     bounds)
    dt_match = np.zeros((len(names), len(dets)), np.int8)
    for thr in sorted({table[n]['overlap'] for n in names}):  # one pass per overlap
        rows = [i for i, n in enumerate(names) if table[n]['overlap'] == thr]
        dt_match[rows] = match_batch(dets_m, scores, det_img, gts_reg, gts, gt_img,
                                     det_keep[rows], gt_regular[rows], thr)[0]
    cams = [r.camera for r in images]
    cam_names = sorted(set(cams) - {'all'}) if per_camera else []
    code = {c: k for k, c in enumerate(cam_names)}
    cam_code = np.array([code.get(c, len(cam_names)) for c in cams], dtype=np.int64)
    n_img = [len(images)] + np.bincount(
        cam_code, minlength=len(cam_names) + 1)[:len(cam_names)].tolist()
    gt_cam = [np.bincount(cam_code[gt_img][gt_regular[i]],
                          minlength=len(cam_names) + 1)[:len(cam_names)].tolist()
              for i in range(len(names))]
    order = np.argsort(-scores, kind='stable')
    cam_curves = per_group_roc_curves(scores, dt_match, cam_code[det_img], gt_cam, n_img[1:],
                                      order) if cam_names else [[] for _ in names]
    out = CaltechEvaluation(missing_visibility=missing)
    floor = CALTECH_MISS_RATE_FLOOR
    for i, name in enumerate(names):
        n_gt = [int(gt_regular[i].sum())] + gt_cam[i]
        curves = [roc_curve(scores[order], dt_match[i][order], n_gt[0], n_img[0])]
        curves += cam_curves[i]
        key = '' if name is None else f'{name}/'
        for cam, curve, g, n in zip(['all'] + cam_names, curves, n_gt, n_img):
            mr2, s2 = log_average_miss_rate(curve.fppi, curve.miss_rate, REF_FPPI, floor)
            mr4, s4 = log_average_miss_rate(curve.fppi, curve.miss_rate, REF_FPPI_MR4, floor)
            warn = zero_miss_rate_warning(
                s4, REF_FPPI_MR4, f'protocol caltech, {name or "no setting"}, {cam}',
                f'each sample is floored at {floor:g} before the log (Dollar\'s acfTest.m), '
                f'so MR-2 = {mr2:.4g}, MR-4 = {mr4:.4g} (without the floor: 0)')
            if warn:
                print_log(warn, logger='current', level=logging.WARNING)
            suffix = '' if cam == 'all' else f'_{cam}'
            out.metrics[f'{key}MR-2{suffix}'] = mr2
            out.metrics[f'{key}MR-4{suffix}'] = mr4
            out.summaries.append(MissRateSummary(
                group=cam, num_images=n, num_gt=g, mr2=mr2, ref_miss_rate=s2, mr4=mr4,
                setting=name, curve=curve if name is None else None))
    return out
