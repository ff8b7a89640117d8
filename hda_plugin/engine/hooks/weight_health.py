"""``WeightHealthHook``: weight and gradient norms per layer group, logged; collapse, dead
layers and exploding gradients warned."""
from collections import defaultdict
from typing import Dict, List, Optional

import numpy as np
import torch
from mmdet.registry import HOOKS
from mmengine.optim import OptimWrapperDict

from .base import DiagnosticHook, unwrap_model
from .param_stats import group_norms, layer_groups, optim_desc, step_grad_norms, trainable_params

__all__ = ['WeightHealthHook']


@HOOKS.register_module()
class WeightHealthHook(DiagnosticHook):
    """Watches weights and gradients per layer group (parameter names cut to
    ``group_depth`` parts: ``backbone.features``, ``bbox_head.cls_convs``, ...).

    At the first iteration and every ``interval`` iterations it logs, per group, the weight
    norm, the gradient norm and the update/weight ratio ``||W_after - W_before|| /
    ||W_before||`` as scalars through the runner's visualizer (``weight_norm/<group>``,
    ``grad_norm/<group>``, ``update_ratio/<group>``; TensorBoard gets weight histograms
    every ``histogram_interval`` when a ``TensorboardVisBackend`` is configured), and warns:

    - collapse: a group's weight norm fell at each of the last ``collapse_window`` checks
      and is below ``collapse_ratio`` of its value at the start (weight decay winning over
      a loss without signal);
    - dead layers: a group whose gradient is exactly 0 at ``dead_patience`` checks in a row;
    - exploding gradients: a group's gradient norm above ``explode_factor`` times its
      median so far.

    Divergence and non-finite losses are :class:`DivergenceHook`'s and
    :class:`NonFiniteLossHook`'s. The optimizer wrapper's ``step`` is interposed for the
    run; at a check iteration it reads the gradients (with ``AmpOptimWrapper`` still
    loss-scaled) and the weights before and after the step.
    """
    priority = 'LOW'

    def __init__(self, interval: int = 50, group_depth: int = 2, collapse_window: int = 5,
                 collapse_ratio: float = 0.5, explode_factor: float = 10.0,
                 dead_patience: int = 3, histogram_interval: Optional[int] = None, **kwargs):
        super().__init__(**kwargs)
        self.interval = interval
        self.group_depth = group_depth
        self.collapse_window = collapse_window
        self.collapse_ratio = collapse_ratio
        self.explode_factor = explode_factor
        self.dead_patience = dead_patience
        self.histogram_interval = histogram_interval or interval * 10
        self.history: Dict[str, List[tuple]] = defaultdict(list)  # group -> (iter, w, g, u)
        self.params: List[torch.nn.Parameter] = []
        self.groups: Dict[str, List[int]] = {}
        self._warned = set()
        self._check = False
        self._pending = None  # (per-param grad norms, weight norms, update norms)

    def before_train(self, runner) -> None:
        if not self.enabled:
            return
        names, self.params = trainable_params(unwrap_model(runner.model))
        self.groups = layer_groups(names, self.group_depth)
        if isinstance(runner.optim_wrapper, OptimWrapperDict):
            self.report(runner, 'info', 'several optimizers (OptimWrapperDict): skipped.')
        elif self.params:
            ow = runner.optim_wrapper
            self.interpose(ow, 'step', lambda step: self._measuring_step(step, ow))

    def _measuring_step(self, step, ow):
        def measuring(*args, **kwargs):
            if not (self.enabled and self._check):
                return step(*args, **kwargs)
            with torch.no_grad():
                grads = step_grad_norms(ow, self.params)
                before = [p.detach().clone() for p in self.params]
            out = step(*args, **kwargs)
            with torch.no_grad():
                self._pending = (
                    grads, torch.stack([b.float().norm() for b in before]),
                    torch.stack([(p.detach() - b).float().norm()
                                 for p, b in zip(self.params, before)]))
            return out
        return measuring

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        self._check = self.every_n_train_iters(runner, self.interval) or runner.iter == 0
        self._pending = None

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if not (self.enabled and self._check and self._pending is not None):
            return
        grads, w_before, upd = self._pending
        w = group_norms(w_before, self.groups)
        u = group_norms(upd, self.groups)
        g = group_norms(grads, self.groups)
        it = runner.iter + 1
        scalars = {}
        for group in self.groups:
            ratio = u[group] / w[group] if w[group] > 0 else 0.0
            self.history[group].append((it, w[group], g[group], ratio))
            scalars.update({f'weight_norm/{group}': w[group], f'grad_norm/{group}': g[group],
                            f'update_ratio/{group}': ratio})
        runner.visualizer.add_scalars(scalars, step=it)
        if it % self.histogram_interval == 0 or runner.iter == 0:
            self._histograms(runner, it)
        self._check_groups(runner, it)

    def _check_groups(self, runner, it: int) -> None:
        """One warning per kind and check, listing every group it concerns."""
        collapsing, dead, exploding = [], [], []
        n = self.collapse_window
        for group, hist in self.history.items():
            _, wn, gn, _ = hist[-1]
            first = hist[0][1]
            ws = [h[1] for h in hist[-n - 1:]]
            if ('collapse', group) not in self._warned and len(hist) > n and first > 0 and \
                    all(b < a for a, b in zip(ws, ws[1:])) and wn < self.collapse_ratio * first:
                self._warned.add(('collapse', group))
                collapsing.append(f'{group} {first:.4g} -> {wn:.4g} ({wn / first:.1%})')
            if ('dead', group) not in self._warned and len(hist) >= self.dead_patience and \
                    all(h[2] == 0 for h in hist[-self.dead_patience:]):
                self._warned.add(('dead', group))
                dead.append(group)
            prev = [h[2] for h in hist[:-1] if h[2] > 0]
            if ('explode', group) not in self._warned and len(prev) >= 3 and \
                    gn > self.explode_factor * float(np.median(prev)):
                self._warned.add(('explode', group))
                med = float(np.median(prev))
                exploding.append(f'{group} {gn:.4g} ({gn / med:.0f}x its median {med:.4g})')
        if collapsing:
            self.report(
                runner, 'warning',
                f'weights collapsing toward 0 in {len(collapsing)} of {len(self.groups)} layer '
                f'groups, their norm falling at each of the last {n} checks (iteration '
                f'{self.history[next(iter(self.history))][0][0]} -> {it}): '
                + '; '.join(collapsing) + f'. {optim_desc(runner)} The loss gives these '
                'weights less push than the weight decay pulls: lower weight_decay, and check '
                'that ground truth reaches the loss (PositiveAnchorHook pos_per_img).')
        if dead:
            self.report(
                runner, 'warning',
                f'{len(dead)} layer group(s) received an exactly-zero gradient at the last '
                f'{self.dead_patience} checks (iteration {it}): {", ".join(dead)}. A dead layer '
                '(ReLUs that never fire), a branch not in the loss, a loss without positives, '
                'or a feature level whose anchors are never positives or mined negatives.')
        if exploding:
            self.report(
                runner, 'warning',
                f'exploding gradients at iteration {it}: ' + '; '.join(exploding) +
                f'. {optim_desc(runner)} Lower the learning rate, lengthen warmup or set '
                'optim_wrapper.clip_grad=dict(max_norm=...).')

    def _histograms(self, runner, it: int) -> None:
        try:
            backend = runner.visualizer.get_backend('TensorboardVisBackend')
        except (KeyError, AttributeError):
            backend = None
        if backend is None:
            return
        writer = backend.experiment
        for group, idx in self.groups.items():
            values = torch.cat([self.params[i].detach().flatten() for i in idx]).float()
            if values.numel() > 65536:  # enough for the shape of the distribution
                values = values[::values.numel() // 65536 + 1]
            writer.add_histogram(f'weights/{group}', values.cpu().numpy(), it)
