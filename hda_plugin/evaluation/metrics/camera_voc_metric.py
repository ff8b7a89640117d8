"""``CameraVOCMetric``: MMDetection's VOCMetric, plus the same AP for each camera."""
from typing import Sequence

from mmdet.evaluation import VOCMetric
from mmdet.evaluation.functional import eval_map
from mmdet.registry import METRICS
from mmengine.logging import MMLogger

from ...fileio.hda_layout import sample_camera
from ...utils.table import format_table
from .finite_predictions import check_finite_predictions

__all__ = ['CameraVOCMetric']


@METRICS.register_module()
class CameraVOCMetric(VOCMetric):
    """:class:`mmdet.evaluation.VOCMetric` (``metric='mAP'``) computed as it is, overall,
    and again on each camera's images (the camera from the image path): ``AP50`` and
    ``AP50_cam19``, ... . The per-camera figures call MMDetection's ``eval_map`` in the
    same way on the camera's subset, and are logged as one table.
    """

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            check_finite_predictions(sample)
            super().process(data_batch, [sample])
            self.results[-1] = self.results[-1] + (sample_camera(sample), )

    def compute_metrics(self, results: list) -> dict:
        out = super().compute_metrics([r[:2] for r in results])
        if self.metric != 'mAP':
            return out
        cams = sorted({r[2] for r in results} - {'all'})
        rows = []
        for cam in cams:
            gts, preds = zip(*[r[:2] for r in results if r[2] == cam])
            aps = []
            for iou_thr in self.iou_thrs:
                ap, _ = eval_map(list(preds), list(gts), scale_ranges=self.scale_ranges,
                                 iou_thr=iou_thr, logger='silent', eval_mode=self.eval_mode,
                                 use_legacy_coordinate=True)
                out[f'AP{int(iou_thr * 100):02d}_{cam}'] = round(ap, 3)
                aps.append(ap)
            rows.append((cam, len(gts), aps))
        if rows:
            table = format_table(
                ['camera', 'images'] + [f'AP{int(t * 100)}' for t in self.iou_thrs],
                [[c, n] + [f'{a:.3f}' for a in aps] for c, n, aps in rows])
            MMLogger.get_current_instance().info(
                f'VOC AP per camera ({self.eval_mode}):\n' + '\n'.join(table))
        return out
