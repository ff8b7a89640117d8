"""``HDABenchmarkMetric``: the HDA benchmark's log-average miss rate (protocol
``hda-benchmark``, :mod:`..protocols`), dbEval.m rule for rule, pool and per camera."""
from typing import Optional, Sequence

import numpy as np
from mmdet.registry import METRICS
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from ...fileio.hda_layout import hda_frame_of
from ...structures.boxes import xyxy_to_xywh
from ..dbeval import BenchmarkFrame, benchmark_metrics, benchmark_table, evaluate_predictions
from ..protocols import HDA_BENCHMARK, hda_benchmark_title
from .finite_predictions import class_predictions

__all__ = ['HDABenchmarkMetric']


@METRICS.register_module()
class HDABenchmarkMetric(BaseMetric):
    """The HDA benchmark's MR-2 (keys ``hda/MR-2``, ``hda/MR-2_cam60``): ``dbEval.m``'s
    fixed rules (:mod:`hda_plugin.evaluation.dbeval`), nothing to tune.

    Ground truth read from ``data_root/hda_detections/<gt>`` (or built from the vbb files,
    said in the log), detections >= 40 px, all boxes at aspect 0.41, IoU 0.5, every frame
    1..nFrame of each camera an image (frames the test set lacks count as frames without
    detections, as dbEval would count them in an exported ``allD.txt``; logged), the
    cameras but 02 pooled in ``MR-2``. Samples must come from ``HDADataset`` (camera and
    frame of each image). A variant of these rules is :class:`CaltechMetric`'s business.

    Args:
        data_root (str, optional): the release root holding ``hda_annotations/`` and
            ``hda_detections/``; defaults to the test set's (``HDADataset`` puts its
            ``data_root`` in ``dataset_meta``).
        gt (str): ground-truth folder under ``hda_detections``. Defaults to
            ``'GtAnnotationsAll'``.
        pool_exclude (Sequence[int]): cameras left out of the pooled ``MR-2`` (still
            reported alone). Defaults to ``(2,)`` as dbEval.
        label (int): the person class id. Defaults to 0.
        per_camera (bool): also report each camera. Defaults to True.
        prefix (str, optional): key prefix. Defaults to ``'hda'``.
        collect_device (str): as in MMEngine's ``BaseMetric``. Defaults to ``'cpu'``.
    """
    protocol = HDA_BENCHMARK['name']
    default_prefix = 'hda'

    def __init__(self, data_root: Optional[str] = None, gt: str = HDA_BENCHMARK['gt'],
                 pool_exclude: Sequence[int] = HDA_BENCHMARK['excluded_cameras'],
                 label: int = 0, per_camera: bool = True, prefix: Optional[str] = None,
                 collect_device: str = 'cpu'):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.data_root = data_root
        self.gt = gt
        self.pool_exclude = tuple(int(c) for c in pool_exclude)
        self.label = label
        self.per_camera = per_camera

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            dets, scores = class_predictions(sample, self.label)
            cam, frame = hda_frame_of(sample)
            self.results.append(BenchmarkFrame(cam, frame, xyxy_to_xywh(dets),
                                               scores.astype(np.float64)))

    def compute_metrics(self, results: list) -> dict:
        root = self.data_root or (self.dataset_meta or {}).get('data_root')
        if not root:
            raise ValueError('HDABenchmarkMetric: no data_root given and the test set is not '
                             'an HDADataset (whose data_root it takes).')
        res, pool, notes = evaluate_predictions(root, results, self.gt, self.pool_exclude)
        lines = benchmark_table(res, hda_benchmark_title(self.gt, pool=pool) + ':')
        MMLogger.get_current_instance().info('\n'.join(lines + [f'  note: {n}' for n in notes]))
        return dict(benchmark_metrics(res, self.per_camera))
