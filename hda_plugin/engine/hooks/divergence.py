"""``DivergenceHook``: the loss climbing away from its best, with the layers to blame."""
import math
from typing import Dict, List, Optional

import torch
from mmdet.registry import HOOKS
from mmengine.optim import OptimWrapperDict

from .base import DiagnosticHook, unwrap_model
from .param_stats import group_norms, layer_groups, optim_desc, step_grad_norms, trainable_params

__all__ = ['DivergenceHook']


@HOOKS.register_module()
class DivergenceHook(DiagnosticHook):
    """Warns once when the loss, averaged over ``window`` iterations, rises above
    ``factor`` times the lowest loss so far, naming the three layer groups (parameter
    names cut to ``group_depth`` parts) whose gradient norm grew the most since the first
    iteration. Non-finite losses are :class:`NonFiniteLossHook`'s.

    The optimizer wrapper's ``step`` is interposed for the run to read the gradient norms
    (one fused norm kernel per iteration) before ``zero_grad``.

    Args:
        factor (float): how far above the lowest loss the windowed mean may rise.
        window (int): iterations averaged.
        group_depth (int): parts of a parameter name that make its layer group.
        enabled, stop_on_error: see :class:`DiagnosticHook`.
    """
    priority = 'LOW'

    def __init__(self, factor: float = 3.0, window: int = 5, group_depth: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor
        self.window = window
        self.group_depth = group_depth
        self.min_loss = math.inf
        self.recent_losses: List[float] = []
        self.first_grad: Dict[str, float] = {}
        self.params: List[torch.nn.Parameter] = []
        self.groups: Dict[str, List[int]] = {}
        self._grad_norms: Optional[torch.Tensor] = None
        self._warned = False

    def before_train(self, runner) -> None:
        if not self.enabled:
            return
        names, self.params = trainable_params(unwrap_model(runner.model))
        self.groups = layer_groups(names, self.group_depth)
        if self.params and not isinstance(runner.optim_wrapper, OptimWrapperDict):
            ow = runner.optim_wrapper
            self.interpose(ow, 'step', lambda step: self._reading_step(step, ow))

    def _reading_step(self, step, ow):
        def reading(*args, **kwargs):
            if self.enabled and not self._warned:
                with torch.no_grad():
                    self._grad_norms = step_grad_norms(ow, self.params)
            return step(*args, **kwargs)
        return reading

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        self._grad_norms = None

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        loss = (outputs or {}).get('loss')
        if not self.enabled or self._warned or not isinstance(loss, torch.Tensor):
            return
        value = float(loss.detach())
        if not math.isfinite(value):
            return
        now = group_norms(self._grad_norms, self.groups) if self._grad_norms is not None \
            else {}
        for group, norm in now.items():
            if norm > 0 and math.isfinite(norm):
                self.first_grad.setdefault(group, norm)
        self.recent_losses = (self.recent_losses + [value])[-self.window:]
        self.min_loss = min(self.min_loss, value)
        if len(self.recent_losses) < self.window or not now:
            return
        mean = sum(self.recent_losses) / len(self.recent_losses)
        if mean > self.factor * self.min_loss:
            self._warned = True
            self.report(runner, 'warning', self._message(runner, mean, now))

    def _message(self, runner, mean: float, now: Dict[str, float]) -> str:
        growth = {g: now[g] / self.first_grad[g] for g in now
                  if self.first_grad.get(g, 0) > 0 and math.isfinite(now[g])}
        worst = sorted(growth, key=growth.get, reverse=True)[:3]
        layers = ', '.join(f'{g} (gradient norm x{growth[g]:.0f}: {self.first_grad[g]:.3g} '
                           f'-> {now[g]:.3g})' for g in worst)
        return (f'training is diverging: the loss averaged over {self.window} iterations '
                f'rose to {mean:.4g} at iteration {runner.iter + 1}, '
                f'{mean / self.min_loss:.1f}x the lowest loss so far ({self.min_loss:.4g}). '
                f'Fastest-growing gradients: {layers}. {optim_desc(runner)} Lower the '
                'learning rate (10x to start with), lengthen warmup, or set '
                'optim_wrapper.clip_grad=dict(max_norm=...).')
