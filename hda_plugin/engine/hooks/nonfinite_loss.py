"""``NonFiniteLossHook``: a NaN/Inf loss or gradient stops training with where it began."""
import math
from typing import List, Optional

import torch
from mmdet.registry import HOOKS
from mmengine.optim import AmpOptimWrapper, OptimWrapperDict

from .base import DiagnosticHook, unwrap_model
from .param_stats import first_tensor, optim_desc, step_grad_norms, trainable_params

__all__ = ['NonFiniteLossHook']


@HOOKS.register_module()
class NonFiniteLossHook(DiagnosticHook):
    """Every iteration: the loss and the gradients must be finite (replaces MMDetection's
    ``CheckInvalidLossHook``, which looks every 50 iterations and names nothing).

    A non-finite gradient skips that optimizer step (outside AMP, whose loss scaler skips
    such steps itself), so the weights that produced it stay intact. A NaN/Inf loss or a
    skipped step is then an error naming the first layer, in forward order, whose output
    went non-finite (``locate=True``: found by running that batch's forward pass again with
    a hook on every leaf module, only after the failure), the first parameter whose gradient
    did, and the last ``history`` finite losses with the learning rate.

    The optimizer wrapper's ``step`` is interposed for the run, so gradients are read after
    backward and before ``zero_grad``, as the optimizer sees them.

    Args:
        locate (bool): re-run the forward pass to find the first non-finite layer.
        history (int): finite losses quoted in the message.
        enabled, stop_on_error: see :class:`DiagnosticHook`.
    """
    priority = 'LOW'  # after LoggerHook: the log shows the bad loss first

    def __init__(self, locate: bool = True, history: int = 5, **kwargs):
        super().__init__(**kwargs)
        self.locate = locate
        self.history = history
        self.recent_losses: List[float] = []
        self.names: List[str] = []
        self.params: List[torch.nn.Parameter] = []
        self._model = None
        self._grad_norms: Optional[torch.Tensor] = None
        self._skipped_step = False

    def before_train(self, runner) -> None:
        if not self.enabled:
            return
        self._model = unwrap_model(runner.model)
        self.names, self.params = trainable_params(self._model)
        ow = runner.optim_wrapper
        if isinstance(ow, OptimWrapperDict):
            self.report(runner, 'info', 'several optimizers (OptimWrapperDict): gradient '
                        'checks off, loss checks on.')
        elif self.params:
            amp = isinstance(ow, AmpOptimWrapper)
            self.interpose(ow, 'step', lambda step: self._guarded_step(step, ow, amp))

    def _guarded_step(self, step, ow, amp: bool):
        def guarded(*args, **kwargs):
            if self.enabled:
                with torch.no_grad():
                    self._grad_norms = step_grad_norms(ow, self.params)
                    if not amp and not bool(torch.isfinite(self._grad_norms).all()):
                        self._skipped_step = True
                        return None
            return step(*args, **kwargs)
        return guarded

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        self._skipped_step = False
        self._grad_norms = None

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if not self.enabled:
            return
        loss = (outputs or {}).get('loss')
        if not isinstance(loss, torch.Tensor):
            return
        value = float(loss.detach())
        if math.isfinite(value) and not self._skipped_step:
            self.recent_losses = (self.recent_losses + [value])[-self.history:]
            return
        self.report(runner, 'error', self._message(runner, value, outputs, data_batch))

    def _message(self, runner, value: float, outputs: dict, data_batch) -> str:
        losses = ', '.join(f'{k}={float(v.detach()) if isinstance(v, torch.Tensor) else v:.4g}'
                           for k, v in outputs.items())
        first_out = self.first_nonfinite_layer(data_batch) \
            if self.locate and data_batch is not None else None
        first_grad = None
        if self._grad_norms is not None:
            bad = (~torch.isfinite(self._grad_norms)).nonzero()
            if len(bad):
                first_grad = self.names[int(bad[0])]
        bad_w = [n for n, p in zip(self.names, self.params) if not torch.isfinite(p).all()]
        where = []
        if first_out:
            where.append(f'first layer whose output went non-finite in the forward pass: '
                         f'{first_out[1]} ({first_out[2]})')
        elif self.locate:
            where.append('every layer output was finite: the loss itself overflowed '
                         '(huge logits or box deltas)')
        if first_grad:
            where.append(f'first parameter with a non-finite gradient: {first_grad}')
        if self._skipped_step:
            where.append('the optimizer step was skipped, the weights are as they were')
        if bad_w:
            where.append(f'{len(bad_w)} of {len(self.names)} parameters are non-finite '
                         f'(first: {bad_w[0]})')
        if first_out and first_out[0] == 0 and not bad_w:
            cause = ('The first layer (or the preprocessing) produced it with finite weights, '
                     'so the input is non-finite: check data_preprocessor mean/std (a std of '
                     '0 divides by zero) and the images.')
        else:
            cause = ('Likely a learning rate too high for this model and batch: lower it '
                     '(10x), lengthen warmup, or set optim_wrapper.clip_grad=dict(max_norm=...).')
        return (f'loss became {value} at iteration {runner.iter + 1} ({losses}); '
                + '; '.join(where) + '. '
                f'Last finite losses: {[round(x, 4) for x in self.recent_losses]} '
                f'{optim_desc(runner)}. {cause}')

    @torch.no_grad()
    def first_nonfinite_layer(self, data_batch):
        """Re-runs the forward pass of ``data_batch`` with a hook on every leaf module and
        returns ``(index, name, type)`` of the first, in execution order, whose output is
        not finite, or None. Costs one forward pass, and only after a non-finite loss."""
        model, found, order = self._model, [], []

        def make(name):
            def hook(module, inputs, output):
                t = first_tensor(output)
                if not found and t is not None and t.is_floating_point() and t.numel() \
                        and not bool(torch.isfinite(t).all()):
                    found.append((len(order), name, type(module).__name__))
                order.append(name)
            return hook

        try:
            data = model.data_preprocessor(data_batch, True)
        except Exception:  # noqa: BLE001  a diagnosis must not hide the original failure
            return None
        inputs = first_tensor(data.get('inputs'))
        if inputs is not None and not bool(torch.isfinite(inputs).all()):
            return (0, 'data_preprocessor', 'the network input itself')
        handles = [m.register_forward_hook(make(n)) for n, m in model.named_modules()
                   if not any(True for _ in m.children()) and m is not model.data_preprocessor]
        try:
            model._run_forward(data, mode='loss')
        except Exception:  # noqa: BLE001  a diagnosis must not hide the original failure
            pass
        finally:
            for h in handles:
                h.remove()
        return found[0] if found else None
