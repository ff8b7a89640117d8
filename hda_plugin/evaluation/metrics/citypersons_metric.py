"""``CityPersonsMetric``: the official CityPersons log-average miss rate (protocol
``citypersons``, :mod:`..citypersons`) of the person class, per setup."""
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
from mmdet.registry import METRICS
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from ...structures.boxes import to_numpy
from ...utils.table import format_table
from ..citypersons import CityPersonsEvaluation, CityPersonsImage, evaluate_citypersons
from ..protocols import CITYPERSONS, citypersons_setup
from .finite_predictions import class_predictions

__all__ = ['CityPersonsMetric']


@dataclass
class _Sample:
    """What :meth:`CityPersonsMetric.process` keeps of one image: the protocol's input and
    the ground truths of another class, made ignore regions (counted)."""
    image: CityPersonsImage
    other_labels: int


@METRICS.register_module()
class CityPersonsMetric(BaseMetric):
    """The official CityPersons MR (``eval_MR_multisetup.py``), keys
    ``citypersons/Reasonable``, ``citypersons/Small``, ``citypersons/Heavy``,
    ``citypersons/All``: the log-average miss rate over FPPI 10^-2..10^0 as a fraction
    (0.112 is the papers' 11.2 %), what the script computes, quirk included
    (:mod:`hda_plugin.evaluation.citypersons`).

    Inputs per image, in the original image's pixels as MMDetection's test loop leaves
    them (``pred_instances`` rescaled by the model; ``gt_instances`` loaded after
    ``Resize`` in the test pipeline, as ``CaltechMetric`` takes them): the predictions of
    class ``label``; ``gt_instances`` of class ``label`` are the pedestrians, with their
    visible fraction ``gt_instances.visibility`` (``LoadHDAAnnotations`` +
    ``PackHDADetInputs``; missing: fully visible, counted and logged); ``ignored_instances``
    (rider, sitting person, person (other), person group, ignore) and any ground truth of
    another class (counted) are ignore regions.

    Args:
        setups (Sequence[str]): keys of
            :data:`~hda_plugin.evaluation.protocols.CITYPERSONS_SETUPS` to report.
            Defaults to all four.
        label (int): the person class id. Defaults to 0.
        prefix (str, optional): key prefix. Defaults to ``'citypersons'``.
        collect_device (str): as in MMEngine's ``BaseMetric``. Defaults to ``'cpu'``.
    """
    protocol = CITYPERSONS['name']
    default_prefix = 'citypersons'

    def __init__(self, setups: Sequence[str] = ('Reasonable', 'Small', 'Heavy', 'All'),
                 label: int = 0, prefix: Optional[str] = None, collect_device: str = 'cpu'):
        super().__init__(collect_device=collect_device, prefix=prefix)
        if isinstance(setups, str):
            setups = (setups, )
        for s in setups:
            citypersons_setup(s)  # a clear error on an unknown name, at build time
        self.setups = tuple(setups)
        self.label = label
        self.last = CityPersonsEvaluation()  # of the last compute_metrics

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            dets, scores = class_predictions(sample, self.label)
            gt = sample['gt_instances']
            boxes = to_numpy(gt['bboxes']).reshape(-1, 4)
            person = to_numpy(gt['labels']).reshape(-1) == self.label if 'labels' in gt \
                else np.ones(len(boxes), bool)
            vis = to_numpy(gt['visibility']).reshape(-1)[person] if 'visibility' in gt \
                else None
            ign = sample.get('ignored_instances', {})
            ign_boxes = to_numpy(ign['bboxes']).reshape(-1, 4) if 'bboxes' in ign else \
                np.zeros((0, 4), np.float32)
            name = str(sample.get('img_path') or sample.get('img_id', ''))
            self.results.append(_Sample(
                CityPersonsImage(dets, scores, boxes[person], vis,
                                 np.concatenate([ign_boxes, boxes[~person]]), name),
                int((~person).sum())))

    def compute_metrics(self, results: list) -> dict:
        self.last = evaluate_citypersons([r.image for r in results], self.setups)
        logger = MMLogger.get_current_instance()
        other = sum(r.other_labels for r in results)
        if other:
            logger.warning(f'CityPersonsMetric: {other} ground truths of a class other than '
                           f'{self.label} were made ignore regions, as the script treats '
                           'every class but pedestrian.')
        if self.last.missing_visibility:
            logger.warning(
                f'CityPersonsMetric: {self.last.missing_visibility} persons carry no visible '
                'fraction (gt_instances.visibility absent, NaN or inf): counted as fully '
                'visible (1.0), so they are in Reasonable/Small/All, never in Heavy. The '
                'test pipeline needs LoadHDAAnnotations + PackHDADetInputs.')
        if self.last.dets_over_cap:
            logger.warning(f'CityPersonsMetric: {self.last.dets_over_cap} detections past '
                           f'the {CITYPERSONS["max_dets"]} highest-scored of their image '
                           'were not evaluated (the script\'s maxDets).')
        for s in self.last.setups.values():
            if s.quirk_points:
                logger.info((
                    f'CityPersonsMetric: {s.setup}: the first detection on the curve is a '
                    f'false positive, so {s.quirk_points} of the 9 FPPI points read the '
                    'last miss rate of the curve (the official script\'s searchsorted(...) '
                    '- 1 = -1 index, reproduced; 1.0 would be the curve\'s value there).'))
            if s.num_persons == 0:
                logger.warning(f'CityPersonsMetric: {s.setup}: no regular person, MR is '
                               'NaN (the official script prints -1).')
        logger.info(self._log(self.last))
        return dict(self.last.metrics)

    @staticmethod
    def _log(ev: CityPersonsEvaluation) -> str:
        """One line per setup: its ranges, persons, detections on the curve, MR."""
        n_img = next(iter(ev.setups.values())).num_images if ev.setups else 0
        lines = ['log-average miss rate, protocol citypersons (the official '
                 'eval_MR_multisetup.py: IoU 0.5, ignore regions by intersection over the '
                 'detection, <= 1000 detections per image, FPPI 1e-2..1e0 at 9 points, no '
                 f'floor; {n_img} images):']
        rows = []
        for s in ev.setups.values():
            r = citypersons_setup(s.setup)
            hr = f'[{r["hr"][0]:g}, {r["hr"][1]:g}]'.replace('1e+10', 'inf')
            vr = f'[{r["vr"][0]:g}, {r["vr"][1]:g}]'.replace('1e+10', 'inf')
            rows.append([s.setup, s.label, hr, vr, s.num_persons, s.num_dets,
                         f'{s.mr:.2%}' if np.isfinite(s.mr) else 'n/a', s.quirk_points])
        lines += format_table(['setup', 'script name', 'height', 'visibility', 'persons',
                               'dets', 'MR', 'quirk pts'], rows)
        return '\n'.join(lines)
