"""``MissRateMetric``: log-average miss rate of the person class in two named protocols,
``hda-benchmark`` and ``caltech`` (:mod:`.protocols`), overall and per camera."""
from collections import OrderedDict, defaultdict
from typing import Optional, Sequence, Tuple

import numpy as np
from mmdet.registry import METRICS
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from ..fileio.hda_layout import hda_frame_of, sample_camera
from ..structures.boxes import to_numpy, xyxy_to_xywh
from ..utils.table import format_table
from .caltech import evaluate_caltech, setting_masks
from .dbeval import benchmark_table, evaluate_predictions
from .finite_predictions import check_finite_predictions
from .functional import (
    REF_FPPI,
    log_average_miss_rate,
    match_batch,
    miss_rate_fppi,
    resize_to_aspect,
)
from .protocols import CALTECH_MISS_RATE_FLOOR, HDA_BENCHMARK, caltech_setting

__all__ = ['MissRateMetric']

INF = float('inf')




@METRICS.register_module()
class MissRateMetric(BaseMetric):
    """Log-average miss rate (MR-2, and MR-4 in ``caltech``) of the person class.

    Two protocols (:mod:`hda_plugin.evaluation.protocols`), each printed under its name:

    - ``'caltech'`` (default; keys ``caltech/MR-2``, ``caltech/Reasonable/MR-2_cam60``):
      Dollár's toolbox (``bbGt.evalRes``/``compRoc``) on the data set's annotations: IoU
      0.5, highest scores first, each person matched once; detections inside ignore
      regions (``crowd``, ``personUnk``, hidden, any ignored instance), measured as
      intersection over the detection's area, count neither as true nor as false
      positives. Without ``settings``: every person regular, optional ``aspect_ratio`` and
      ``height_range``. With ``settings`` (names of dbEval's ``exps`` table, e.g.
      :data:`~.protocols.DOLLAR_SETTINGS`): all of them from one set of overlaps; persons
      outside a setting's height/visibility range become ignore regions, detections outside
      its widened height range are dropped. Visible fractions come from the samples'
      ``gt_instances.visibility`` (``LoadHDAAnnotations`` + ``PackHDADetInputs``); persons
      without one count as "posv not set" (``inf``), counted and logged.
    - ``'hda-benchmark'`` (keys ``hda/MR-2``, ``hda/MR-2_cam60``): dbEval.m's figure, rule
      for rule (:mod:`.hda_benchmark`): ground truth read from
      ``data_root/hda_detections/GtAnnotationsAll`` (or built from the vbb files, said in
      the log), detections >= 40 px, all boxes at aspect 0.41, every frame 1..nFrame of
      each camera an image (frames the test set lacks count as frames without
      detections, as dbEval would count them in an exported ``allD.txt``; logged), cameras
      but 02 pooled in ``MR-2``. Samples must come from ``HDADataset``.

    Args:
        protocol (str): ``'caltech'`` or ``'hda-benchmark'``. Defaults to ``'caltech'``.
        settings (Sequence[str], optional): ``caltech`` only: Dollár settings to report
            (keys ``<setting>/MR-2``). None reports the single figure below.
        iou_thr (float): ``caltech`` without settings: overlap threshold. Defaults to 0.5.
        aspect_ratio (float, optional): ``caltech``: before matching, set every detection's
            and regular person's width to ``aspect_ratio * height`` about its centre (the
            toolbox's 0.41). None keeps the boxes. Defaults to None.
        height_range (tuple, optional): ``caltech`` without settings: ``(min, max)`` person
            height; persons outside become ignore regions and detections outside
            ``[min / expand, max * expand)`` are dropped. Defaults to None.
        expand (float): the detection tolerance of ``height_range``. Defaults to 1.25.
        data_root (str, optional): ``hda-benchmark``: the release root holding
            ``hda_annotations/`` and ``hda_detections/``; defaults to the test set's
            (``HDADataset`` puts its ``data_root`` in ``dataset_meta``).
        gt (str): ``hda-benchmark``: ground-truth folder under ``hda_detections``.
            Defaults to ``'GtAnnotationsAll'``.
        pool_exclude (Sequence[int]): ``hda-benchmark``: cameras left out of the pooled
            ``MR-2`` (still reported alone). Defaults to ``(2,)`` as dbEval.
        label (int): the person class id. Defaults to 0.
        per_camera (bool): also report each camera. Defaults to True.
        prefix (str, optional): key prefix; defaults to ``caltech`` or ``hda``.
        collect_device (str): as in MMEngine's ``BaseMetric``.
    """
    PROTOCOLS = ('caltech', 'hda-benchmark')

    def __init__(self, protocol: str = 'caltech', settings: Optional[Sequence[str]] = None,
                 iou_thr: float = 0.5, aspect_ratio: Optional[float] = None,
                 height_range: Optional[Tuple[float, float]] = None, expand: float = 1.25,
                 data_root: Optional[str] = None, gt: str = HDA_BENCHMARK['gt'],
                 pool_exclude: Sequence[int] = HDA_BENCHMARK['excluded_cameras'],
                 label: int = 0, per_camera: bool = True, prefix: Optional[str] = None,
                 collect_device: str = 'cpu'):
        if protocol not in self.PROTOCOLS:
            raise ValueError(f'MissRateMetric protocol={protocol!r}: expected one of '
                             f'{list(self.PROTOCOLS)}.')
        if protocol == 'hda-benchmark':
            fixed = dict(settings=settings, iou_thr=iou_thr != 0.5, aspect_ratio=aspect_ratio,
                         height_range=height_range, expand=expand != 1.25)
            changed = [k for k, v in fixed.items() if v]
            if changed:
                raise ValueError(
                    f'MissRateMetric(protocol="hda-benchmark") has dbEval.m\'s fixed rules; '
                    f'{changed} cannot be set. A variant is protocol="caltech" with these '
                    'options (or settings=[...]).')
        if settings is not None and height_range is not None:
            raise ValueError('MissRateMetric: height_range applies without settings; each '
                             'Dollár setting has its own height range.')
        super().__init__(collect_device=collect_device,
                         prefix=prefix or ('hda' if protocol == 'hda-benchmark' else 'caltech'))
        self.protocol = protocol
        self.settings = OrderedDict((s, caltech_setting(s)) for s in settings) \
            if settings is not None else None
        self.iou_thr = iou_thr
        self.aspect_ratio = aspect_ratio
        self.height_range = tuple(height_range) if height_range else None
        self.expand = expand
        self.data_root = data_root
        self.gt = gt
        self.pool_exclude = tuple(int(c) for c in pool_exclude)
        self.label = label
        self.per_camera = per_camera
        self.curves = OrderedDict()  # name -> curve of the last evaluation (caltech, base)
        self.persons = OrderedDict()  # caltech: setting -> group -> regular persons (last run)
        self.missing_visibility = 0  # caltech: persons without a visible fraction (last run)

    # ----------------------------------------------------------------------------------
    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            check_finite_predictions(sample)
            pred = sample['pred_instances']
            keep = to_numpy(pred['labels']) == self.label
            dets = to_numpy(pred['bboxes']).reshape(-1, 4)[keep]
            scores = to_numpy(pred['scores']).reshape(-1)[keep]
            if self.protocol == 'hda-benchmark':
                cam, frame = hda_frame_of(sample)
                self.results.append((cam, frame, xyxy_to_xywh(dets),
                                     scores.astype(np.float64)))
                continue
            gt = sample['gt_instances']
            person = to_numpy(gt['labels']) == self.label
            gt_boxes = to_numpy(gt['bboxes']).reshape(-1, 4)[person]
            vis = to_numpy(gt['visibility'])[person] if 'visibility' in gt else None
            ign = sample.get('ignored_instances', {})
            ign_boxes = to_numpy(ign['bboxes']).reshape(-1, 4) if 'bboxes' in ign else \
                np.zeros((0, 4))
            self.results.append((sample_camera(sample), dets.astype(np.float32),
                                 scores.astype(np.float32), gt_boxes, vis, ign_boxes))

    def compute_metrics(self, results: list) -> dict:
        if self.protocol == 'hda-benchmark':
            return self._compute_benchmark(results)
        return self._compute_caltech(results)

    # --- caltech ----------------------------------------------------------------------
    def _setting_table(self) -> 'OrderedDict[str, dict]':
        if self.settings is not None:
            return self.settings
        hr = self.height_range or (-INF, INF)
        return OrderedDict([(None, dict(hr=hr, vr=(-INF, INF), ar=0, overlap=self.iou_thr,
                                        filter=self.expand))])

    def _compute_caltech(self, results: list) -> dict:
        out = evaluate_caltech(results, self._setting_table(), self.aspect_ratio,
                               self.per_camera)
        self.curves, self.persons = out['curves'], out['persons']
        self.missing_visibility = out['missing_visibility']
        needs_vis = any(s['vr'] != (-INF, INF) for s in self._setting_table().values())
        logger = MMLogger.get_current_instance()
        if needs_vis and self.missing_visibility:
            logger.warning(
                f'MissRateMetric (caltech): {self.missing_visibility} persons carry no visible '
                'fraction (gt_instances.visibility): counted as "posv not set" (inf), as the '
                'toolbox does, so they are unoccluded for the Occ and Reasonable settings. '
                'HDADataset gives it with LoadHDAAnnotations + PackHDADetInputs in the test '
                'pipeline (configs/ssd512_hda.py).')
        logger.info(self._caltech_log(out['rows']))
        return dict(out['metrics'])

    def _caltech_log(self, rows) -> str:
        """One line per setting: persons, MR-2 and MR-4 overall, MR-2 of each camera."""
        what = (f'settings {list(self.settings)}' if self.settings is not None else
                f'IoU {self.iou_thr}, heights {self.height_range or "all"}')
        cams = list(OrderedDict.fromkeys(r[1] for r in rows if r[1] != 'all'))
        lines = [f'log-average miss rate, protocol caltech ({what}; ignore regions by '
                 f'intersection over the detection; aspect ratio {self.aspect_ratio}; MR-2: '
                 f'FPPI 1e-2..1e0, MR-4: 1e-4..1e0; {rows[0][2] if rows else 0} images):']
        by_setting = OrderedDict()
        for r in rows:
            by_setting.setdefault(r[0], {})[r[1]] = r
        table = []
        for name, per_cam in by_setting.items():
            _, _, _, g, mr2, mr4, mr01 = per_cam['all']
            table.append([name or '-', g, f'{mr2:.1%}', f'{mr4:.1%}', f'{mr01:.1%}'] +
                         [f'{per_cam[c][4]:.1%}' if c in per_cam else '-' for c in cams])
        lines += format_table(['setting', 'persons', 'MR-2', 'MR-4', 'MR@0.1'] +
                              [f'{c} MR-2' for c in cams], table)
        return '\n'.join(lines)

    # --- offline use (tools/analysis: plot_curves, browse_dataset) -------------------
    def evaluate_image(self, dets, scores, gt_boxes, ignore_boxes, camera='all',
                       return_gt: bool = False, setting: Optional[str] = None,
                       visibility=None) -> tuple:
        """``caltech`` on one image, without settings or in one ``setting`` (persons'
        ``visibility`` then needed, ``inf`` where missing); returns ``(camera, scores,
        dt_match, regular GT count)``, and with ``return_gt`` also the match flags of
        ``gt_boxes`` (1 found, 0 missed, -1 an ignore region in this setting) and the mask
        of the detections kept. Detections outside the height range are dropped from
        ``scores`` and ``dt_match``."""
        if self.protocol != 'caltech':
            raise ValueError('evaluate_image: the caltech protocol only.')
        if setting is None:
            s = self._setting_table()[None] if self.settings is None else None
            if s is None:
                raise ValueError('evaluate_image: name one of the settings '
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
        gt_reg, keep = setting_masks(s, is_person, boxes, vis, dets[:, 3] - dets[:, 1])
        if self.aspect_ratio:
            d_m, b_reg = resize_to_aspect(dets, self.aspect_ratio), resize_to_aspect(
                boxes, self.aspect_ratio)
        else:
            d_m, b_reg = dets, boxes
        dm, gm = match_batch(d_m, scores, np.zeros(len(dets), np.int64), b_reg, boxes,
                             np.zeros(len(boxes), np.int64), keep[None], gt_reg[None],
                             s['overlap'])
        out = (camera, scores[keep].astype(np.float32), dm[0][keep],
               int(gt_reg[:len(gt_boxes)].sum()))
        return out + (gm[0][:len(gt_boxes)], keep) if return_gt else out

    def compute_curves(self, results: list) -> 'OrderedDict[str, dict]':
        """``'all'`` and, with ``per_camera``, each camera -> :func:`miss_rate_fppi` curve
        with ``mr2``, ``ref_fppi``, ``ref_miss_rate``, ``num_images``, ``num_gt``; from
        :meth:`evaluate_image` tuples."""
        groups = defaultdict(list)
        for r in results:
            groups['all'].append(r)
            if self.per_camera and r[0] != 'all':
                groups[r[0]].append(r)
        curves = OrderedDict()
        for name in ['all'] + sorted(k for k in groups if k != 'all'):
            rs = groups[name]
            curve = miss_rate_fppi([r[1] for r in rs], [r[2] for r in rs],
                                   sum(r[3] for r in rs), len(rs))
            mr2, samples = log_average_miss_rate(curve['fppi'], curve['miss_rate'], REF_FPPI,
                                                 CALTECH_MISS_RATE_FLOOR)
            curve.update(mr2=mr2, ref_fppi=REF_FPPI, ref_miss_rate=samples,
                         num_images=len(rs), num_gt=sum(r[3] for r in rs))
            curves[name] = curve
        return curves

    # --- hda-benchmark ----------------------------------------------------------------
    def _compute_benchmark(self, results: list) -> dict:
        root = self.data_root or (self.dataset_meta or {}).get('data_root')
        if not root:
            raise ValueError('MissRateMetric(protocol="hda-benchmark"): no data_root given and '
                             'the test set is not an HDADataset (whose data_root it takes).')
        res, pool, notes = evaluate_predictions(root, results, self.gt, self.pool_exclude)
        metrics = OrderedDict([('MR-2', res['pool']['mr2'])])
        if self.per_camera:
            metrics.update((f'MR-2_{k}', v['mr2']) for k, v in res.items() if k != 'pool')
        lines = benchmark_table(
            res, f'log-average miss rate, protocol hda-benchmark (dbEval.m: GT {self.gt}, '
                 f'detections >= 40 px, aspect 0.41, IoU 0.5, every frame; pool = cameras '
                 f'{pool}):')
        MMLogger.get_current_instance().info('\n'.join(lines + [f'  note: {n}' for n in notes]))
        return dict(metrics)
