"""``CaltechMetric``: log-average miss rate of the person class in the ``caltech`` protocol
(:mod:`..protocols`), Dollár's settings, overall and per camera."""
from collections import OrderedDict, defaultdict
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

import numpy as np
from mmdet.registry import METRICS
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from ...fileio.hda_layout import sample_camera
from ...structures.boxes import resize_to_aspect, to_numpy
from ...utils.table import format_table
from ..caltech import CaltechEvaluation, CaltechImage, evaluate_caltech, setting_masks
from ..functional import (
    REF_FPPI,
    MissRateSummary,
    log_average_miss_rate,
    match_batch,
    miss_rate_fppi,
)
from ..protocols import CALTECH_MISS_RATE_FLOOR, caltech_setting
from .finite_predictions import class_predictions

__all__ = ['CaltechMetric', 'ImageMatch']

INF = float('inf')


@dataclass
class ImageMatch:
    """One image matched by :meth:`CaltechMetric.evaluate_image`.

    Attributes:
        camera: ``'camNN'`` or ``'all'``.
        scores: ``(K,)`` float32 scores of the detections kept (inside the height range).
        dt_match: ``(K,)`` their flags: 1 true positive, 0 false positive, -1 on an ignore
            region.
        num_gt: regular persons (not ignore regions in this setting).
        gt_match: ``(P,)`` flags of the given persons: 1 found, 0 missed, -1 an ignore
            region in this setting.
        keep: ``(D,)`` bool, which of the given detections were kept.
    """
    camera: str
    scores: np.ndarray
    dt_match: np.ndarray
    num_gt: int
    gt_match: np.ndarray
    keep: np.ndarray


@METRICS.register_module()
class CaltechMetric(BaseMetric):
    """Log-average miss rate (MR-2 and MR-4) of the person class, protocol ``caltech``.

    Dollár's toolbox (``bbGt.evalRes``/``compRoc``) on the data set's annotations (keys
    ``caltech/MR-2``, ``caltech/Reasonable/MR-2_cam60``): IoU 0.5, highest scores first,
    each person matched once; detections inside ignore regions (``crowd``, ``personUnk``,
    hidden, any ignored instance), measured as intersection over the detection's area,
    count neither as true nor as false positives. Without ``settings``: every person
    regular, optional ``aspect_ratio`` and ``height_range``. With ``settings`` (names of
    dbEval's ``exps`` table, e.g. :data:`~hda_plugin.evaluation.protocols.DOLLAR_SETTINGS`):
    all of them from one set of overlaps; persons outside a setting's height/visibility
    range become ignore regions, detections outside its widened height range are dropped.
    Visible fractions come from the samples' ``gt_instances.visibility``
    (``LoadHDAAnnotations`` + ``PackHDADetInputs``); persons without one count as "posv not
    set" (``inf``), counted and logged.

    Args:
        settings (Sequence[str], optional): Dollár settings to report (keys
            ``<setting>/MR-2``). None reports the single figure below. Defaults to None.
        iou_thr (float): without settings: overlap threshold. Defaults to 0.5.
        aspect_ratio (float, optional): before matching, set every detection's and regular
            person's width to ``aspect_ratio * height`` about its centre (the toolbox's
            0.41). None keeps the boxes. Defaults to None.
        height_range (tuple, optional): without settings: ``(min, max)`` person height;
            persons outside become ignore regions and detections outside
            ``[min / expand, max * expand)`` are dropped. Defaults to None.
        expand (float): the detection tolerance of ``height_range``. Defaults to 1.25.
        bounds (tuple, optional): ``(x1, y1, x2, y2)``: persons not wholly inside become
            ignore regions, in every setting (Caltech's ``dbEval.m``: ``bnds = [5 5 635
            475]``, "discard bbs outside this pixel range", in ``filterGtFun``; detections
            are not bounded). None: no such rule. Defaults to None.
        label (int): the person class id. Defaults to 0.
        per_camera (bool): also report each camera. Defaults to True.
        prefix (str, optional): key prefix. Defaults to ``'caltech'``.
        collect_device (str): as in MMEngine's ``BaseMetric``. Defaults to ``'cpu'``.
    """
    protocol = 'caltech'
    default_prefix = 'caltech'

    def __init__(self, settings: Optional[Sequence[str]] = None, iou_thr: float = 0.5,
                 aspect_ratio: Optional[float] = None,
                 height_range: Optional[Tuple[float, float]] = None, expand: float = 1.25,
                 label: int = 0, per_camera: bool = True,
                 bounds: Optional[Sequence[float]] = None, prefix: Optional[str] = None,
                 collect_device: str = 'cpu'):
        if settings is not None and height_range is not None:
            raise ValueError('CaltechMetric: height_range applies without settings; each '
                             'Dollár setting has its own height range.')
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.settings = OrderedDict((s, caltech_setting(s)) for s in settings) \
            if settings is not None else None
        self.iou_thr = iou_thr
        self.aspect_ratio = aspect_ratio
        self.height_range = tuple(height_range) if height_range else None
        self.expand = expand
        self.label = label
        self.per_camera = per_camera
        if bounds is not None and len(bounds) != 4:
            raise ValueError(f'CaltechMetric: bounds={bounds!r}: expected (x1, y1, x2, y2), '
                             "e.g. Caltech's (5, 5, 635, 475).")
        self.bounds = tuple(float(b) for b in bounds) if bounds is not None else None
        self.last = CaltechEvaluation()  # of the last compute_metrics

    @property
    def curves(self) -> 'OrderedDict[str, MissRateSummary]':
        """Of the last evaluation without settings: group -> summary with its curve."""
        return self.last.curves

    @property
    def persons(self) -> 'OrderedDict[Optional[str], OrderedDict[str, int]]':
        """Of the last evaluation: setting -> group -> regular persons."""
        return self.last.persons

    @property
    def missing_visibility(self) -> int:
        """Of the last evaluation: persons without a visible fraction."""
        return self.last.missing_visibility

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            dets, scores = class_predictions(sample, self.label)
            gt = sample['gt_instances']
            person = to_numpy(gt['labels']) == self.label
            gt_boxes = to_numpy(gt['bboxes']).reshape(-1, 4)[person]
            vis = to_numpy(gt['visibility'])[person] if 'visibility' in gt else None
            ign = sample.get('ignored_instances', {})
            ign_boxes = to_numpy(ign['bboxes']).reshape(-1, 4) if 'bboxes' in ign else \
                np.zeros((0, 4))
            self.results.append(CaltechImage(sample_camera(sample), dets.astype(np.float32),
                                             scores.astype(np.float32), gt_boxes, vis,
                                             ign_boxes))

    def setting_table(self) -> 'OrderedDict[Optional[str], dict]':
        """The settings evaluated: the named ones, or the metric's own options under None."""
        if self.settings is not None:
            return self.settings
        hr = self.height_range or (-INF, INF)
        return OrderedDict([(None, dict(hr=hr, vr=(-INF, INF), ar=0, overlap=self.iou_thr,
                                        filter=self.expand))])

    def compute_metrics(self, results: list) -> dict:
        self.last = evaluate_caltech(results, self.setting_table(), self.aspect_ratio,
                                     self.per_camera, self.bounds)
        needs_vis = any(s['vr'] != (-INF, INF) for s in self.setting_table().values())
        logger = MMLogger.get_current_instance()
        if needs_vis and self.missing_visibility:
            logger.warning(
                f'CaltechMetric: {self.missing_visibility} persons carry no visible '
                'fraction (gt_instances.visibility): counted as "posv not set" (inf), as the '
                'toolbox does, so they are unoccluded for the Occ and Reasonable settings. '
                'HDADataset gives it with LoadHDAAnnotations + PackHDADetInputs in the test '
                'pipeline (configs/ssd512_hda.py).')
        logger.info(self._log(self.last.summaries))
        return dict(self.last.metrics)

    def _log(self, summaries: Sequence[MissRateSummary]) -> str:
        """One line per setting: persons, MR-2 and MR-4 overall, MR-2 of each camera."""
        what = (f'settings {list(self.settings)}' if self.settings is not None else
                f'IoU {self.iou_thr}, heights {self.height_range or "all"}')
        cams = list(OrderedDict.fromkeys(s.group for s in summaries if s.group != 'all'))
        lines = [f'log-average miss rate, protocol caltech ({what}; ignore regions by '
                 f'intersection over the detection; aspect ratio {self.aspect_ratio}; MR-2: '
                 'FPPI 1e-2..1e0, MR-4: 1e-4..1e0; '
                 f'{summaries[0].num_images if summaries else 0} images):']
        by_setting = OrderedDict()
        for s in summaries:
            by_setting.setdefault(s.setting, {})[s.group] = s
        table = []
        for name, per_cam in by_setting.items():
            a = per_cam['all']
            table.append([name or '-', a.num_gt, f'{a.mr2:.1%}', f'{a.mr4:.1%}',
                          f'{a.miss_rate_at_fppi_0_1:.1%}'] +
                         [f'{per_cam[c].mr2:.1%}' if c in per_cam else '-' for c in cams])
        lines += format_table(['setting', 'persons', 'MR-2', 'MR-4', 'MR@0.1'] +
                              [f'{c} MR-2' for c in cams], table)
        return '\n'.join(lines)

    # --- offline use (tools/analysis: plot_curves, browse_dataset) -------------------
    def evaluate_image(self, dets, scores, gt_boxes, ignore_boxes, camera: str = 'all',
                       setting: Optional[str] = None, visibility=None) -> ImageMatch:
        """One image, without settings or in one ``setting`` (the persons' ``visibility``
        then needed, ``inf`` where missing): boxes ``x1 y1 x2 y2``. Detections outside the
        height range are dropped from ``scores`` and ``dt_match``."""
        if setting is None:
            s = self.setting_table()[None] if self.settings is None else None
            if s is None:
                raise ValueError('CaltechMetric.evaluate_image: name one of the settings '
                                 f'{list(self.settings)}.')
        else:
            s = caltech_setting(setting)
        dets = np.asarray(dets, dtype=np.float64).reshape(-1, 4)
        scores = np.asarray(scores, dtype=np.float64).reshape(-1)
        gt_boxes = np.asarray(gt_boxes, dtype=np.float64).reshape(-1, 4)
        ignore_boxes = np.asarray(ignore_boxes, dtype=np.float64).reshape(-1, 4)
        boxes = np.concatenate([gt_boxes, ignore_boxes])
        vis = np.full(len(boxes), INF)
        if visibility is not None:
            v = np.asarray(visibility, dtype=np.float64).reshape(-1)
            vis[:len(gt_boxes)] = np.where(np.isnan(v), INF, v)
        is_person = np.r_[np.ones(len(gt_boxes), bool), np.zeros(len(ignore_boxes), bool)]
        gt_reg, keep = setting_masks(s, is_person, boxes, vis, dets[:, 3] - dets[:, 1],
                                     self.bounds)
        if self.aspect_ratio:
            d_m, b_reg = resize_to_aspect(dets, self.aspect_ratio), resize_to_aspect(
                boxes, self.aspect_ratio)
        else:
            d_m, b_reg = dets, boxes
        dm, gm = match_batch(d_m, scores, np.zeros(len(dets), np.int64), b_reg, boxes,
                             np.zeros(len(boxes), np.int64), keep[None], gt_reg[None],
                             s['overlap'])
        return ImageMatch(camera=camera, scores=scores[keep].astype(np.float32),
                          dt_match=dm[0][keep], num_gt=int(gt_reg[:len(gt_boxes)].sum()),
                          gt_match=gm[0][:len(gt_boxes)], keep=keep)

    def compute_curves(self, images: Sequence[ImageMatch]
                       ) -> 'OrderedDict[str, MissRateSummary]':
        """``'all'`` and, with ``per_camera``, each camera -> summary (MR-2, its samples,
        images, persons) with its curve, from :meth:`evaluate_image` results."""
        groups = defaultdict(list)
        for m in images:
            groups['all'].append(m)
            if self.per_camera and m.camera != 'all':
                groups[m.camera].append(m)
        out = OrderedDict()
        for name in ['all'] + sorted(k for k in groups if k != 'all'):
            ms = groups[name]
            num_gt = sum(m.num_gt for m in ms)
            curve = miss_rate_fppi([m.scores for m in ms], [m.dt_match for m in ms], num_gt,
                                   len(ms))
            mr2, samples = log_average_miss_rate(curve.fppi, curve.miss_rate, REF_FPPI,
                                                 CALTECH_MISS_RATE_FLOOR)
            out[name] = MissRateSummary(group=name, num_images=len(ms), num_gt=num_gt,
                                        mr2=mr2, ref_miss_rate=samples, curve=curve)
        return out
