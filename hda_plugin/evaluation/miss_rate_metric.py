"""``MissRateMetric``: the HDA benchmark's log-average miss rate, overall and per camera."""
import re
from collections import OrderedDict, defaultdict
from typing import Optional, Sequence, Tuple

import numpy as np
from mmdet.registry import METRICS
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from .functional import (REF_FPPI, log_average_miss_rate, match_image, miss_rate_fppi,
                         resize_to_aspect)

__all__ = ['MissRateMetric', 'camera_of']

_CAMERA_RE = re.compile(r'cam(?:era)?0*(\d+)', re.IGNORECASE)


def camera_of(img_path: str) -> str:
    """``'cam60'`` from a path such as ``.../hda_frames/cam60/I00001.jpg`` (``'all'`` when
    the path names no camera)."""
    found = _CAMERA_RE.findall(img_path or '')
    return f'cam{int(found[-1]):02d}' if found else 'all'


@METRICS.register_module()
class MissRateMetric(BaseMetric):
    """Log-average miss rate (MR-2) of the person class, as the HDA benchmark computes it.

    Matching follows Dollár's toolbox (``bbGt.evalRes``), used by the HDA code: IoU 0.5,
    highest scores first, each ground truth matched once; detections inside ignore
    regions (``crowd``, ``personUnk``, any ignored instance), measured as intersection over
    the detection's area, count neither as true nor as false positives. Miss rate against
    false positives per image is sampled at the 9 points 10^-2 ... 10^0 and
    ``MR-2 = exp(mean(log(miss rate)))``. Results overall (``MR-2``) and per camera
    (``MR-2_cam60``, ...), the camera taken from each image's path.

    Args:
        iou_thr (float): overlap threshold.
        aspect_ratio (float, optional): before matching, set every detection's and
            regular ground truth's width to ``aspect_ratio * height`` about its centre, as
            the HDA evaluation does (0.41). None keeps the boxes as they are.
        height_range (tuple, optional): ``(min, max)`` box height in pixels: ground truths
            outside become ignore regions and detections outside
            ``[min / expand, max * expand)`` are dropped ("reasonable" protocol). Off
            (None) by default, as in the HDA code. The visibility half of the
            "reasonable" protocol is a dataset rule, as persons become ignore regions:
            ``HDADataset(visibility_range=(0.65, 1.0))`` in the test dataset.
        expand (float): the detection height tolerance of ``height_range``.
        label (int): the person class id of the predictions and ground truth.
        per_camera (bool): also report each camera.
        prefix (str): metric name prefix, ``hda`` -> ``hda/MR-2``.
        collect_device (str): as in MMEngine's ``BaseMetric``.
    """
    default_prefix = 'hda'

    def __init__(self, iou_thr: float = 0.5, aspect_ratio: Optional[float] = None,
                 height_range: Optional[Tuple[float, float]] = None, expand: float = 1.25,
                 label: int = 0, per_camera: bool = True, prefix: Optional[str] = None,
                 collect_device: str = 'cpu'):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.iou_thr = iou_thr
        self.aspect_ratio = aspect_ratio
        self.height_range = tuple(height_range) if height_range else None
        self.expand = expand
        self.label = label
        self.per_camera = per_camera
        self.curves = OrderedDict()  # name -> miss_rate_fppi() of the last evaluation

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            pred = sample['pred_instances']
            keep = pred['labels'].cpu().numpy() == self.label
            dets = pred['bboxes'].cpu().numpy()[keep]
            scores = pred['scores'].cpu().numpy()[keep]
            gt = sample['gt_instances']
            gt_boxes = gt['bboxes'].cpu().numpy()[gt['labels'].cpu().numpy() == self.label]
            ign = sample.get('ignored_instances', {})
            ign_boxes = ign['bboxes'].cpu().numpy() if 'bboxes' in ign else np.zeros((0, 4))
            self.results.append(self.evaluate_image(
                dets, scores, gt_boxes, ign_boxes, camera_of(sample.get('img_path', ''))))

    def evaluate_image(self, dets, scores, gt_boxes, ignore_boxes, camera='all',
                       return_gt: bool = False) -> tuple:
        """Matches one image; returns ``(camera, scores, dt_match, regular GT count)``, and
        with ``return_gt`` also the match flags of ``gt_boxes`` (1 found, 0 missed, -1
        ignored by ``height_range``) and the mask of the detections kept. Detections
        outside ``height_range`` are dropped from ``scores`` and ``dt_match``."""
        dets = np.asarray(dets, dtype=np.float64).reshape(-1, 4)
        scores = np.asarray(scores, dtype=np.float64).reshape(-1)
        gt_boxes = np.asarray(gt_boxes, dtype=np.float64).reshape(-1, 4)
        ignore_boxes = np.asarray(ignore_boxes, dtype=np.float64).reshape(-1, 4)
        gt_ignore = np.zeros(len(gt_boxes), dtype=bool)
        keep = np.ones(len(dets), dtype=bool)
        if self.height_range:
            lo, hi = self.height_range
            h = gt_boxes[:, 3] - gt_boxes[:, 1]
            gt_ignore = (h < lo) | (h >= hi)
            dh = dets[:, 3] - dets[:, 1]
            keep = (dh >= lo / self.expand) & (dh < hi * self.expand)
            dets, scores = dets[keep], scores[keep]
        if self.aspect_ratio:
            dets = resize_to_aspect(dets, self.aspect_ratio)
            gt_boxes = np.where(gt_ignore[:, None], gt_boxes,
                                resize_to_aspect(gt_boxes, self.aspect_ratio))
        boxes = np.concatenate([gt_boxes, ignore_boxes])
        ignore = np.concatenate([gt_ignore, np.ones(len(ignore_boxes), dtype=bool)])
        dt_match, gt_match = match_image(dets, scores, boxes, ignore, self.iou_thr)
        out = (camera, scores.astype(np.float32), dt_match, int((~gt_ignore).sum()))
        return out + (gt_match[:len(gt_boxes)], keep) if return_gt else out

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
            mr2, samples = log_average_miss_rate(curve['fppi'], curve['miss_rate'])
            curve.update(mr2=mr2, ref_fppi=REF_FPPI, ref_miss_rate=samples,
                         num_images=len(rs), num_gt=sum(r[3] for r in rs))
            curves[name] = curve
        return curves

    def compute_metrics(self, results: list) -> dict:
        self.curves = self.compute_curves(results)
        metrics, rows = OrderedDict(), []
        for name, curve in self.curves.items():
            metrics['MR-2' if name == 'all' else f'MR-2_{name}'] = curve['mr2']
            samples = curve['ref_miss_rate']
            rows.append((name, curve['num_images'], curve['num_gt'], curve['mr2'],
                         samples[4] if len(samples) > 4 else float('nan')))
        MMLogger.get_current_instance().info(
            'log-average miss rate (HDA/Caltech protocol, IoU '
            f'{self.iou_thr}, FPPI 1e-2..1e0):\n' + self.table(rows))
        return dict(metrics)

    @staticmethod
    def table(rows) -> str:
        lines = [f'  {"camera":<8} {"images":>7} {"persons":>8} {"MR-2":>7} {"MR@0.1":>7}']
        for name, n, g, mr2, mr01 in rows:
            lines.append(f'  {name:<8} {n:>7} {g:>8} {mr2:>7.1%} {mr01:>7.1%}')
        return '\n'.join(lines)
