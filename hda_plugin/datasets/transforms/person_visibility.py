"""Carry each box's visible fraction (vbb ``posv``) from ``HDADataset`` to the metrics.

``MissRateMetric``'s Dollár settings (Reasonable, Occ=partial/heavy, ...) need the visible
fraction of every person; MMDetection's ``LoadAnnotations`` and ``PackDetInputs`` carry
boxes, labels and ignore flags only. These two add ``gt_visibility`` and pack it as
``gt_instances.visibility`` / ``ignored_instances.visibility``. For test pipelines: a
transform that drops or crops boxes does not know this field.
"""
import numpy as np
from mmdet.datasets.transforms import LoadAnnotations, PackDetInputs
from mmdet.registry import TRANSFORMS

__all__ = ['LoadHDAAnnotations', 'PackHDADetInputs']


@TRANSFORMS.register_module()
class LoadHDAAnnotations(LoadAnnotations):
    """``LoadAnnotations`` plus ``gt_visibility``: each instance's ``visibility`` (area of
    ``posv`` over area of ``pos``; ``inf`` when ``posv`` is not set, Dollár's rule), NaN for
    instances without one (other data sets). Arguments as ``LoadAnnotations``."""

    def transform(self, results: dict) -> dict:
        results = super().transform(results)
        if self.with_bbox:
            results['gt_visibility'] = np.array(
                [float(i.get('visibility', np.nan)) for i in results.get('instances', [])],
                dtype=np.float32)
        return results


@TRANSFORMS.register_module()
class PackHDADetInputs(PackDetInputs):
    """``PackDetInputs`` that also packs ``gt_visibility`` as ``visibility``, and the
    sample's ``camera`` (set by both datasets) and ``frame`` (HDADataset) into its metainfo
    whatever ``meta_keys`` says, for the per-camera metrics and the HDA benchmark.
    Arguments as ``PackDetInputs``."""
    mapping_table = dict(PackDetInputs.mapping_table, gt_visibility='visibility')

    def transform(self, results: dict) -> dict:
        if 'gt_visibility' in results and 'gt_bboxes' in results and \
                len(results['gt_visibility']) != len(results['gt_bboxes']):
            raise ValueError(
                f'{results.get("img_path")}: {len(results["gt_visibility"])} visible '
                f'fractions for {len(results["gt_bboxes"])} boxes: a transform between '
                'LoadHDAAnnotations and PackHDADetInputs dropped boxes. Use these two in '
                'test pipelines only (no crops).')
        packed = super().transform(results)
        own = {k: results[k] for k in ('camera', 'frame') if results.get(k) is not None}
        if own:
            packed['data_samples'].set_metainfo(own)
        return packed
