"""The ``caltech`` protocol (:mod:`.protocols`) on many images and settings in one pass:
Dollár's ``filterGtFun`` per setting, one :func:`~.functional.match_batch`, the curves of
every camera from one sort per setting."""
import logging
from collections import OrderedDict
from typing import Optional, Sequence

import numpy as np
from mmengine.logging import print_log

from .functional import (
    REF_FPPI,
    REF_FPPI_MR4,
    grouped_roc_curves,
    log_average_miss_rate,
    match_batch,
    resize_to_aspect,
    roc_curve,
    zero_miss_rate_warning,
)
from .protocols import CALTECH_MISS_RATE_FLOOR, HDA_BENCHMARK

__all__ = ['CaltechImage', 'setting_masks', 'evaluate_caltech', 'cat_float']

INF = float('inf')

#: One image: ``(camera, dets (D, 4) x1y1x2y2, scores (D,), persons (P, 4), visible
#: fractions (P,) or None, ignore regions (R, 4))``.
CaltechImage = tuple


def cat_float(arrays, width: int = 0) -> np.ndarray:
    """float64 concatenation of per-image arrays (``(0, width)`` / ``(0,)`` when none)."""
    if not arrays:
        return np.zeros((0, width) if width else 0)
    out = np.concatenate(arrays).astype(np.float64)
    return out.reshape(-1, width) if width else out.reshape(-1)


def setting_masks(s: dict, is_person, gts, vis, det_heights):
    """dbEval's ``filterGtFun`` and detection filter for one setting: regular ground truths
    (persons inside the height range ``[lo, hi)``, visible fraction inside ``[lo, hi]`` and,
    with ``ar``, the aspect rule; all else ignore regions) and the detections kept (height
    inside the range widened by ``filter``)."""
    (h0, h1), (v0, v1), f = s['hr'], s['vr'], s['filter']
    h = gts[:, 3] - gts[:, 1]
    reg = is_person & (h >= h0) & (h < h1) & (vis >= v0) & (vis <= v1)
    if s['ar']:
        with np.errstate(divide='ignore', invalid='ignore'):
            dev = np.abs((gts[:, 2] - gts[:, 0]) / h - HDA_BENCHMARK['aspect_ratio'])
        reg &= np.sign(s['ar']) * dev < s['ar']
    return reg, (det_heights >= h0 / f) & (det_heights < h1 * f)


def _assemble(images: Sequence[CaltechImage]):
    """Flat arrays of all images: per image its persons, then its ignore regions."""
    nd = np.array([len(r[1]) for r in images], dtype=np.int64)
    n_person = np.array([len(r[3]) for r in images], dtype=np.int64)
    n_gt = n_person + np.array([len(r[5]) for r in images], dtype=np.int64)
    det_img = np.repeat(np.arange(len(images)), nd)
    gt_img = np.repeat(np.arange(len(images)), n_gt)
    gts = cat_float([x for r in images for x in (r[3], r[5])], 4)
    gt_start = np.concatenate([[0], np.cumsum(n_gt)[:-1]]).astype(np.int64)
    is_person = (np.arange(len(gt_img)) - gt_start[gt_img]) < n_person[gt_img]
    vis = np.full(len(gts), INF)
    if images:
        vis[is_person] = cat_float([r[4] if r[4] is not None else np.full(len(r[3]), np.nan)
                                    for r in images])
    missing = int(np.isnan(vis).sum())  # no field, or NaN: "posv not set"
    vis = np.where(np.isnan(vis), INF, vis)
    return (cat_float([r[1] for r in images], 4), cat_float([r[2] for r in images]), det_img,
            gts, gt_img, is_person, vis, missing)


def evaluate_caltech(images: Sequence[CaltechImage], table: 'OrderedDict[Optional[str], dict]',
                     aspect_ratio: Optional[float] = None, per_camera: bool = True) -> dict:
    """MR-2 and MR-4 of each setting of ``table`` (name -> ``CALTECH_SETTINGS`` entry; the
    name None for the figure without settings), overall and per camera.

    Returns:
        dict with ``metrics`` (``<setting>/MR-2[_camNN]``, ``MR-4``; no setting prefix for
        None), ``rows`` (setting, camera, images, persons, MR-2, MR-4, MR at FPPI 0.1),
        ``persons`` (setting -> camera -> regular persons), ``curves`` (camera -> curve of
        the None setting), ``missing_visibility`` (persons counted as ``posv`` not set).
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
        gt_regular[i], det_keep[i] = setting_masks(table[name], is_person, gts, vis, dh)
    dt_match = np.zeros((len(names), len(dets)), np.int8)
    for thr in sorted({table[n]['overlap'] for n in names}):  # one pass per overlap
        rows = [i for i, n in enumerate(names) if table[n]['overlap'] == thr]
        dt_match[rows] = match_batch(dets_m, scores, det_img, gts_reg, gts, gt_img,
                                     det_keep[rows], gt_regular[rows], thr)[0]
    # compRoc's order, and the same order camera by camera
    cams = [r[0] for r in images]
    cam_names = sorted(set(cams) - {'all'}) if per_camera else []
    code = {c: k for k, c in enumerate(cam_names)}
    cam_code = np.array([code.get(c, len(cam_names)) for c in cams], dtype=np.int64)
    n_img_cam = np.bincount(cam_code, minlength=len(cam_names) + 1)[:len(cam_names)]
    order = np.argsort(-scores, kind='stable')
    by_cam = order[np.argsort(cam_code[det_img][order], kind='stable')]
    bounds = np.searchsorted(cam_code[det_img][by_cam], np.arange(len(cam_names) + 1))
    out = dict(metrics=OrderedDict(), rows=[], persons=OrderedDict(), curves=OrderedDict(),
               missing_visibility=missing)
    for i, name in enumerate(names):
        gt_cam = np.bincount(cam_code[gt_img][gt_regular[i]],
                             minlength=len(cam_names) + 1)[:len(cam_names)].tolist()
        n_gt = [int(gt_regular[i].sum())] + gt_cam
        n_img = [len(images)] + n_img_cam.tolist()
        curves = [roc_curve(scores[order], dt_match[i][order], n_gt[0], n_img[0])]
        if cam_names:
            curves += grouped_roc_curves(scores[by_cam], dt_match[i][by_cam], bounds, gt_cam,
                                         n_img[1:])
        key = '' if name is None else f'{name}/'
        for cam, curve, g, n in zip(['all'] + cam_names, curves, n_gt, n_img):
            floor = CALTECH_MISS_RATE_FLOOR
            mr2, s2 = log_average_miss_rate(curve['fppi'], curve['miss_rate'], REF_FPPI, floor)
            mr4, s4 = log_average_miss_rate(curve['fppi'], curve['miss_rate'], REF_FPPI_MR4,
                                            floor)
            warn = zero_miss_rate_warning(
                s4, REF_FPPI_MR4, f'protocol caltech, {name or "no setting"}, {cam}',
                f'each sample is floored at {floor:g} before the log (Dollar\'s acfTest.m), '
                f'so MR-2 = {mr2:.4g}, MR-4 = {mr4:.4g} (without the floor: 0)')
            if warn:
                print_log(warn, logger='current', level=logging.WARNING)
            suffix = '' if cam == 'all' else f'_{cam}'
            out['metrics'][f'{key}MR-2{suffix}'] = mr2
            out['metrics'][f'{key}MR-4{suffix}'] = mr4
            out['persons'].setdefault(name, OrderedDict())[cam] = g
            out['rows'].append((name, cam, n, g, mr2, mr4, s2[4]))
            if name is None:
                curve.update(mr2=mr2, ref_fppi=REF_FPPI, ref_miss_rate=s2, num_images=n,
                             num_gt=g)
                out['curves'][cam] = curve
    return out
