"""``ZeroAPDiagnosisHook``: when AP or recall is 0, say why."""
from collections import Counter
from typing import Optional, Sequence

import numpy as np
import torch
from mmdet.registry import HOOKS
from mmdet.structures.bbox import bbox_overlaps

from .base import DiagnosticHook

__all__ = ['ZeroAPDiagnosisHook']

IOU_BINS = (0.0, 0.1, 0.3, 0.5, 0.7, 1.0001)


@HOOKS.register_module()
class ZeroAPDiagnosisHook(DiagnosticHook):
    """A report after validation (and testing) when AP or recall falls to ``threshold``.

    During evaluation it keeps per-image counts (cheap, no images): predictions, their
    scores and label ids, ground-truth label ids and ignore regions, and the best IoU of
    each prediction to any ground truth. When a watched metric (keys whose last part
    contains ``AP`` or ``recall``, e.g. ``voc/AP50``, ``coco/bbox_mAP``) is at or below
    ``threshold``, it logs: predictions per image, score quantiles, predicted vs
    ground-truth label ids, ground truths per class, best-IoU histogram and a diagnosis
    (nothing predicted, labels disjoint, boxes in the wrong place, no ground truth).

    Args:
        threshold (float): report when a watched metric is ``<= threshold``.
        metric_keys (Sequence[str], optional): exact metric names to watch instead.
        enabled: see :class:`DiagnosticHook`. A report is a warning; it never stops.
    """
    priority = 'LOW'

    def __init__(self, threshold: float = 0.0, metric_keys: Optional[Sequence[str]] = None,
                 **kwargs):
        kwargs.setdefault('stop_on_error', False)
        super().__init__(**kwargs)
        self.threshold = threshold
        self.metric_keys = tuple(metric_keys) if metric_keys else None
        self.last_report: Optional[str] = None
        self._reset()

    def _reset(self, dataset=None):
        self.classes = tuple(getattr(dataset, 'metainfo', {}).get('classes', ()))
        self.acc = dict(images=0, preds_per_img=[], scores=[], best_iou=[],
                        pred_labels=Counter(), gt_labels=Counter(), ignored=0,
                        gt_found_any=0, gt_found_same=0, gts=0)

    # evaluation loops share these
    def before_val_epoch(self, runner) -> None:
        self._reset(runner.val_loop.dataloader.dataset)

    def before_test_epoch(self, runner) -> None:
        self._reset(runner.test_loop.dataloader.dataset)

    def after_val_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if self.enabled:
            self._collect(outputs or [])

    def after_test_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if self.enabled:
            self._collect(outputs or [])

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._check(runner, metrics or {})

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._check(runner, metrics or {})

    def _collect(self, samples) -> None:
        a = self.acc
        for s in samples:
            pred = s.pred_instances
            pb, ps, pl = pred.bboxes.detach().cpu(), pred.scores.detach().cpu(), \
                pred.labels.detach().cpu()
            gt = s.get('gt_instances', None)
            gb = gt.bboxes.detach().cpu() if gt is not None else torch.zeros((0, 4))
            gl = gt.labels.detach().cpu() if gt is not None else torch.zeros(0, dtype=torch.long)
            if hasattr(gb, 'tensor'):  # mmdet box types
                gb = gb.tensor
            ign = s.get('ignored_instances', None)
            a['images'] += 1
            a['preds_per_img'].append(len(pb))
            a['scores'].append(ps.float().numpy())
            a['pred_labels'].update(pl.tolist())
            a['gt_labels'].update(gl.tolist())
            a['ignored'] += len(ign.bboxes) if ign is not None else 0
            a['gts'] += len(gb)
            if len(pb) and len(gb):
                iou = bbox_overlaps(pb.float(), gb.float())
                a['best_iou'].append(iou.max(dim=1).values.numpy())
                hit = iou >= 0.5
                a['gt_found_any'] += int(hit.any(dim=0).sum())
                same = hit & (pl[:, None] == gl[None, :])
                a['gt_found_same'] += int(same.any(dim=0).sum())
            elif len(pb):
                a['best_iou'].append(np.zeros(len(pb), dtype=np.float32))

    def _watched(self, metrics: dict):
        if self.metric_keys:
            return {k: v for k, v in metrics.items() if k in self.metric_keys}
        return {k: v for k, v in metrics.items()
                if ('AP' in k.split('/')[-1] or 'recall' in k.split('/')[-1].lower())
                and isinstance(v, (int, float))}

    def _check(self, runner, metrics: dict) -> None:
        if not self.enabled:
            return
        low = {k: v for k, v in self._watched(metrics).items() if v <= self.threshold}
        if not low:
            return
        self.last_report = self.build_report(low, self.classes)
        self.report(runner, 'warning', self.last_report)

    def build_report(self, low: dict, classes=()) -> str:
        a = self.acc
        n = max(a['images'], 1)
        ppi = np.asarray(a['preds_per_img'] or [0])
        scores = np.concatenate(a['scores']) if a['scores'] else np.zeros(0)
        best = np.concatenate(a['best_iou']) if a['best_iou'] else np.zeros(0)

        def name(label):
            return f'{label} ({classes[label]})' if 0 <= label < len(classes) else f'{label}'

        lines = [f'{", ".join(f"{k}={v:.4f}" for k, v in low.items())} on {a["images"]} images'
                 f' (threshold {self.threshold}):',
                 f'  predictions per image: mean {ppi.mean():.1f}, median '
                 f'{float(np.median(ppi)):.0f}, images with none {(ppi == 0).sum()}/{n}']
        if len(scores):
            q = np.quantile(scores, [0, 0.5, 0.9, 1.0])
            lines.append(f'  scores: min {q[0]:.3f}, median {q[1]:.3f}, p90 {q[2]:.3f}, '
                         f'max {q[3]:.3f}')
        lines.append('  predicted label ids: ' + (', '.join(
            f'{name(k)}: {v}' for k, v in sorted(a['pred_labels'].items())) or 'none'))
        lines.append('  ground-truth label ids: ' + (', '.join(
            f'{name(k)}: {v}' for k, v in sorted(a['gt_labels'].items())) or 'none')
            + f'; ignore regions: {a["ignored"]}')
        if len(best):
            hist, _ = np.histogram(best, bins=IOU_BINS)
            lines.append('  best IoU of each prediction to any ground truth: ' + ', '.join(
                f'[{lo:.1f},{min(hi, 1):.1f}): {c}' for lo, hi, c in
                zip(IOU_BINS[:-1], IOU_BINS[1:], hist)))
        if a['gts']:
            lines.append(f'  ground truths found at IoU >= 0.5: {a["gt_found_any"]}/{a["gts"]}'
                         f' by any prediction, {a["gt_found_same"]}/{a["gts"]} by one with '
                         'the same label')
        lines.append('  diagnosis: ' + self.diagnose(scores, best))
        return '\n'.join(lines)

    def diagnose(self, scores, best) -> str:
        a = self.acc
        if a['gts'] == 0:
            return ('the evaluation set has no ground truth at all, so AP is 0 by '
                    'definition: check the val/test dataset (labels, ignore rules, '
                    'test_mode filters) and LoadAnnotations in test_pipeline.')
        if not len(scores):
            return ('the model predicts nothing above model.test_cfg.score_thr: untrained, '
                    'collapsed (WeightHealthHook) or trained without positives '
                    '(PositiveAnchorHook); lower score_thr to see its raw scores.')
        pred_ids, gt_ids = set(a['pred_labels']), set(a['gt_labels'])
        if not pred_ids & gt_ids:
            return (f'predicted label ids {sorted(pred_ids)} and ground-truth label ids '
                    f'{sorted(gt_ids)} do not overlap: the class mapping differs between '
                    'training and evaluation (num_classes, metainfo classes, label_map).')
        if a['gt_found_any'] and a['gt_found_same'] < 0.5 * a['gt_found_any']:
            return ('boxes are in the right places but mostly with another label id: '
                    'check the class order (metainfo classes, label_map).')
        if float((best >= 0.5).mean()) < 0.01:
            return ('predictions almost never overlap a ground truth: boxes are in the wrong '
                    'coordinate frame (rescale, scale_factor, box format x1y1x2y2 vs xywh) '
                    'or the model has not learned yet.')
        return ('predictions overlap ground truths but not enough to score: train longer, '
                'check the learning rate and PositiveAnchorHook pos_per_img.')
