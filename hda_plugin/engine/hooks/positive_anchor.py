"""``PositiveAnchorHook``: how many anchors the assigner makes positive, every iteration."""
import torch
from mmdet.registry import HOOKS

from .base import DiagnosticHook, unwrap_model

__all__ = ['PositiveAnchorHook']


@HOOKS.register_module()
class PositiveAnchorHook(DiagnosticHook):
    """Positive anchors per image and share of ground truths matched, every iteration.

    The head's ``assigner.assign`` is interposed for the run (the class is untouched), so
    the figures are exactly what the loss sees (after augmentation, with ignore regions).
    Logged as scalars ``pos_per_img`` and
    ``gt_matched`` (share of ground truths with a positive anchor at ``pos_iou_thr``, i.e.
    not only through MaxIoUAssigner's low-quality rule) next to the losses, and so to
    every visualizer backend. ``patience`` consecutive iterations without a single
    positive anchor stop training: no ground truth reaches the loss.

    Args:
        patience (int): consecutive iterations with zero positives that stop training.
        enabled, stop_on_error: see :class:`DiagnosticHook`.
    """
    priority = 'NORMAL'

    def __init__(self, patience: int = 20, **kwargs):
        super().__init__(**kwargs)
        self.patience = patience
        self.zero_streak = 0
        self.history = []  # (iter, positives, images, gts, gts matched)
        self.records = []  # this iteration: (positives, gts, gts matched) per image
        self._watching = False

    def before_train(self, runner) -> None:
        if not self.enabled:
            return
        head = getattr(unwrap_model(runner.model), 'bbox_head', None)
        assigner = getattr(head, 'assigner', None)
        if assigner is None:
            self.report(runner, 'info', 'the head has no assigner; skipped.')
            return
        pos_thr = float(getattr(assigner, 'pos_iou_thr', 0.5))
        self.interpose(assigner, 'assign', lambda assign: self._recording(assign, pos_thr))
        self._watching = True

    def _recording(self, assign, pos_thr: float):
        """``assign`` that also counts, per image, positive anchors, ground truths and
        ground truths matched at ``pos_thr``."""
        def recording(pred_instances, gt_instances, *args, **kwargs):
            result = assign(pred_instances, gt_instances, *args, **kwargs)
            if self.enabled:
                gt_inds = result.gt_inds
                pos = gt_inds > 0
                max_ov = getattr(result, 'max_overlaps', None)
                strong = pos & (max_ov >= pos_thr) if max_ov is not None else pos
                self.records.append((int(pos.sum()), int(result.num_gts),
                                     torch.unique(gt_inds[strong]).numel()))
            return result
        return recording

    def after_train(self, runner) -> None:
        super().after_train(runner)
        self._watching = False

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        self.records.clear()

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if not (self._watching and self.records and self.enabled):
            return
        pos, gts, matched = (sum(col) for col in zip(*self.records))
        images = len(self.records)
        self.history.append((runner.iter, pos, images, gts, matched))
        runner.message_hub.update_scalar('train/pos_per_img', pos / images)
        runner.message_hub.update_scalar('train/gt_matched', matched / gts if gts else 0.0)
        self.zero_streak = self.zero_streak + 1 if pos == 0 else 0
        if self.zero_streak == self.patience:
            recent = self.history[-self.patience:]
            gt_seen = sum(r[3] for r in recent)
            if gt_seen == 0:
                why = ('the batches carried no ground-truth box at all: every box was '
                       'dropped or ignored before the loss (label mapping such as '
                       'label_map/unknown_labels=\'ignore\', labels >= num_classes, '
                       'ignore rules, or filter_cfg=dict(filter_empty_gt=False) on a data '
                       'set without usable boxes). Fix the labels; DatasetSanityHook prints '
                       'the class histogram.')
            else:
                why = (f'{gt_seen} ground-truth boxes were in those batches but no anchor '
                       'matched any: anchors and input size do not fit the boxes '
                       '(AnchorCoverageHook shows the coverage), or the assigner '
                       'thresholds are too strict.')
            self.report(runner, 'error',
                        f'no ground truth reaches the loss: {self.patience} consecutive '
                        f'iterations (up to iteration {runner.iter + 1}) with 0 positive '
                        f'anchors; the detector can only learn "background". {why}')

    @property
    def summary(self) -> dict:
        if not self.history:
            return {}
        pos = sum(r[1] for r in self.history)
        images = sum(r[2] for r in self.history)
        gts = sum(r[3] for r in self.history)
        matched = sum(r[4] for r in self.history)
        return dict(iterations=len(self.history), pos_per_img=pos / images,
                    gt_per_img=gts / images, gt_matched=matched / gts if gts else 0.0,
                    zero_pos_iters=sum(r[1] == 0 for r in self.history))
