"""Evaluating ``tools/test.py --out results.pkl`` files offline against a config's test set.

MMDetection's ``DumpDetResults`` drops the ground truth from the dump, so it is read again
from the config's test dataset and joined on ``img_path``.
"""
from typing import Dict, List, Optional

import numpy as np
from mmdet.registry import METRICS
from mmengine.config import Config
from mmengine.registry import init_default_scope

from ..fileio.hda_layout import sample_camera
from ..safe_pickle import load_pickle
from ..utils.config import inner_dataset_cfg
from .metrics.caltech_metric import CaltechMetric
from .metrics.finite_predictions import class_predictions

__all__ = ['load_ground_truth', 'sample_key', 'load_results', 'metric_from_config',
           'evaluate_results', 'default_setting']


def load_ground_truth(cfg: Config, split: str = 'test',
                      cameras: Optional[List[int]] = None) -> Dict[str, dict]:
    """:func:`sample_key` -> ``dict(boxes, ignore, visibility, camera, width, height,
    img_path, seq_frame)`` for the config's ``<split>_dataloader`` (dataset wrappers
    unwrapped), in dataset order; ``cameras`` replaces the dataset's own ``cameras``
    (HDADataset) when given."""
    from mmdet.registry import DATASETS
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    ds_cfg = inner_dataset_cfg(cfg[f'{split}_dataloader'].dataset).copy()
    ds_cfg['pipeline'] = []
    ds_cfg['test_mode'] = True
    if cameras and 'cameras' in ds_cfg:
        ds_cfg['cameras'] = list(cameras)
    dataset = DATASETS.build(ds_cfg)
    gt = {}
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        inst = info.get('instances', [])
        boxes = np.array([x['bbox'] for x in inst], dtype=np.float64).reshape(-1, 4)
        ignore = np.array([bool(x.get('ignore_flag', 0)) for x in inst], dtype=bool)
        vis = np.array([float(x.get('visibility', np.nan)) for x in inst], dtype=np.float64)
        key = sample_key(info)
        if key in gt:
            raise ValueError(f'{cfg.filename}: two samples of the {split} set share the key '
                             f'{key!r} (img_id, else img_path): results cannot be joined to '
                             'them. Give each sample a unique img_id in the data set.')
        gt[key] = dict(boxes=boxes, ignore=ignore, visibility=vis, camera=sample_camera(info),
                       width=info.get('width'), height=info.get('height'),
                       img_path=info['img_path'], seq_frame=info.get('seq_frame'))
    return gt


def sample_key(sample) -> str:
    """What joins a result of ``tools/test.py --out`` to its ground truth: the sample's
    ``img_id`` (unique per frame: every frame of a Caltech video shares its ``img_path``,
    the ``.seq``), else its ``img_path``."""
    img_id = sample.get('img_id')
    return str(img_id) if img_id is not None else str(sample['img_path'])


def load_results(path: str) -> List[dict]:
    """The list ``tools/test.py --out`` wrote: one dict per image with ``img_path`` and
    ``pred_instances`` (``bboxes``, ``scores``, ``labels``). Read through the restricted
    unpickler of :mod:`hda_plugin.safe_pickle`: no code runs from the file."""
    results = load_pickle(path)
    if not isinstance(results, list) or not results or 'pred_instances' not in results[0]:
        raise ValueError(f'{path}: expected the list of per-image predictions that '
                         'tools/test.py --out writes (dicts with pred_instances).')
    return results


def metric_from_config(cfg: Config) -> CaltechMetric:
    """The config's ``CaltechMetric`` (HDA configs: ``aspect_ratio=0.41`` and Dollár's
    settings; also ``MissRateMetric`` with ``protocol='caltech'`` of older configs), built
    by the registry as the test run builds it, for curves per image (plots, browsing);
    ``CaltechMetric()`` when the config has none."""
    evaluators = cfg.get('test_evaluator') or []
    evaluators = evaluators if isinstance(evaluators, (list, tuple)) else [evaluators]
    for e in evaluators:
        if e.get('type') in ('CaltechMetric', 'MissRateMetric'):
            metric = METRICS.build(dict(e))
            if isinstance(metric, CaltechMetric):
                return metric
    return CaltechMetric()


def default_setting(metric: CaltechMetric) -> Optional[str]:
    """The setting curves are drawn in: the metric's first (HDA configs: Reasonable), or
    None (no settings)."""
    return next(iter(metric.settings)) if metric.settings else None


def evaluate_results(results: List[dict], gt: Dict[str, dict], metric: CaltechMetric,
                     score_thr: Optional[float] = None,
                     setting: Optional[str] = None) -> List[dict]:
    """Per image: predictions, ground truth and match flags in the caltech ``setting``
    (default: :func:`default_setting`), in the order of ``results``; ``match`` is the
    :class:`~.metrics.caltech_metric.ImageMatch` (:meth:`CaltechMetric.compute_curves`
    takes them). Images of the results
    missing from ``gt`` are an error."""
    setting = setting or default_setting(metric)
    missing = [sample_key(r) for r in results if sample_key(r) not in gt]
    if missing:
        raise KeyError(f'{len(missing)} images of the results are not in the config\'s test '
                       f'set (e.g. {missing[0]}): pass the config the results were made '
                       'with (same data_root, cameras, frame_step).')
    out = []
    for r in results:
        boxes, scores = class_predictions(r, metric.label)
        if score_thr is not None:
            boxes, scores = boxes[scores >= score_thr], scores[scores >= score_thr]
        g = gt[sample_key(r)]
        regular, ignored = g['boxes'][~g['ignore']], g['boxes'][g['ignore']]
        m = metric.evaluate_image(boxes, scores, regular, ignored, g['camera'],
                                  setting=setting, visibility=g['visibility'][~g['ignore']])
        out.append(dict(key=sample_key(r), img_path=r['img_path'], match=m, camera=m.camera,
                        boxes=boxes[m.keep], scores=m.scores, dt_match=m.dt_match,
                        num_gt=m.num_gt, gt_boxes=regular, gt_match=m.gt_match,
                        ignore_boxes=ignored, outside_setting=int((~m.keep).sum())))
    return out
