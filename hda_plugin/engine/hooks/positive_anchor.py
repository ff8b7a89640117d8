"""``PositiveAnchorHook``: how many anchors the assigner makes positive, every iteration."""
import torch
from mmdet.registry import HOOKS

from .base import DiagnosticHook, unwrap_model

__all__ = ['PositiveAnchorHook']


class _AssignRecorder:
    """Wraps the head's ``assigner.assign`` (an instance attribute, the class is untouched)
    and counts, per image, positive anchors, ground truths and ground truths matched."""

    def __init__(self, assign, pos_thr: float, hook):
        self.assign = assign
        self.pos_thr = pos_thr
        self.hook = hook
        self.records = []

    def __call__(self, pred_instances, gt_instances, *args, **kwargs):
        result = self.assign(pred_instances, gt_instances, *args, **kwargs)
        if not self.hook.enabled:
            return result
        gt_inds = result.gt_inds
        pos = gt_inds > 0
        max_ov = getattr(result, 'max_overlaps', None)
        strong = pos & (max_ov >= self.pos_thr) if max_ov is not None else pos
        self.records.append(
            (int(pos.sum()), int(result.num_gts), torch.unique(gt_inds[strong]).numel()))
        return result


@HOOKS.register_module()
class PositiveAnchorHook(DiagnosticHook):
    """Positive anchors per image and share of ground truths matched, every iteration.

    The head's assigner is wrapped for the run, so the figures are exactly what the loss
    sees (after augmentation, with ignore regions). Logged as scalars ``pos_per_img`` and
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
        self._recorder = None
        self._head = None

    def before_train(self, runner) -> None:
        if not self.enabled:
            return
        head = getattr(unwrap_model(runner.model), 'bbox_head', None)
        assigner = getattr(head, 'assigner', None)
        if assigner is None:
            self.report(runner, 'info', 'the head has no assigner; skipped.')
            return
        pos_thr = float(getattr(assigner, 'pos_iou_thr', 0.5))
        self._head = head
        self._assign_was_attr = 'assign' in vars(assigner)
        self._recorder = _AssignRecorder(assigner.assign, pos_thr, self)
        assigner.assign = self._recorder

    def after_train(self, runner) -> None:
        if self._recorder is not None:
            if self._assign_was_attr:
                self._head.assigner.assign = self._recorder.assign
            else:
                del self._head.assigner.assign  # back to the class's method
            self._recorder = None

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if self._recorder is not None and self.enabled:
            self._recorder.records.clear()

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if self._recorder is None or not self._recorder.records or not self.enabled:
            return
        pos, gts, matched = (sum(col) for col in zip(*self._recorder.records))
        images = len(self._recorder.records)
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
