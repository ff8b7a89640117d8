"""``WeightHealthHook``: weight and gradient norms per layer group; collapse, dead layers,
exploding gradients, and the first layer that went non-finite."""
import math
from collections import OrderedDict, defaultdict
from typing import Dict, List, Optional

import numpy as np
import torch
from mmdet.registry import HOOKS
from mmengine.optim import AmpOptimWrapper, OptimWrapperDict

from .base import DiagnosticHook, unwrap_model

__all__ = ['WeightHealthHook']


def _first_tensor(output) -> Optional[torch.Tensor]:
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, (list, tuple)):
        for o in output:
            t = _first_tensor(o)
            if t is not None:
                return t
    return None


@HOOKS.register_module()
class WeightHealthHook(DiagnosticHook):
    """Watches weights and gradients per layer group (parameter names cut to
    ``group_depth`` parts: ``backbone.features``, ``bbox_head.cls_convs``, ...).

    Every ``interval`` iterations it logs, per group, the weight norm, the gradient norm and
    the update/weight ratio ``||W_after - W_before|| / ||W_before||`` as scalars through the
    runner's visualizer (``weight_norm/<group>``, ``grad_norm/<group>``,
    ``update_ratio/<group>``; TensorBoard gets weight histograms every
    ``histogram_interval`` when a ``TensorboardVisBackend`` is configured), and warns on:

    - collapse: a group's weight norm fell at each of the last ``collapse_window`` checks
      and is below ``collapse_ratio`` of its value at the start (weight decay winning over
      a loss without signal);
    - dead layers: a group whose gradient is exactly 0 at ``dead_patience`` checks in a row;
    - exploding gradients: a group's gradient norm above ``explode_factor`` times its
      median so far;
    - divergence: the loss, averaged over ``diverge_window`` iterations, above
      ``diverge_factor`` times the lowest loss so far, with the layer groups whose
      gradients grew the most.

    Every iteration (cheap: one norm per parameter gradient) it checks the loss and the
    gradients. A non-finite gradient skips that optimizer step, so the weights stay as they
    were; a NaN/Inf loss is then an error that names the first layer, in forward order,
    whose output went non-finite (found by running that batch's forward pass again with a
    hook on every layer) and the first parameter whose gradient did, with the recent loss
    and learning rate.

    The optimizer wrapper's ``step`` is wrapped for the run (instance attribute), so
    gradients are read after backward and before ``zero_grad``, as the optimizer sees them
    (with ``AmpOptimWrapper`` they are still loss-scaled).
    """
    priority = 'LOW'  # after LoggerHook (the log shows the bad loss), before CheckInvalidLossHook

    def __init__(self, interval: int = 50, group_depth: int = 2, collapse_window: int = 5,
                 collapse_ratio: float = 0.5, explode_factor: float = 10.0,
                 dead_patience: int = 3, detect_nonfinite: bool = True,
                 diverge_factor: float = 3.0, diverge_window: int = 5,
                 histogram_interval: Optional[int] = None, **kwargs):
        super().__init__(**kwargs)
        self.interval = interval
        self.group_depth = group_depth
        self.collapse_window = collapse_window
        self.collapse_ratio = collapse_ratio
        self.explode_factor = explode_factor
        self.dead_patience = dead_patience
        self.detect_nonfinite = detect_nonfinite
        self.diverge_factor = diverge_factor
        self.diverge_window = diverge_window
        self._min_loss = math.inf
        self._first_grad: Dict[str, float] = {}
        self.histogram_interval = histogram_interval or interval * 10
        self.history: Dict[str, List[tuple]] = defaultdict(list)  # group -> (iter, w, g, u)
        self._warned = set()
        self._skipped_step = False
        self._check = False
        self._grad_norms = None
        self._pending = None
        self._recent_losses: List[float] = []
        self._optim_wrapper = None

    # -- setup ---------------------------------------------------------------------------
    def before_train(self, runner) -> None:
        if not self.enabled:
            return
        model = unwrap_model(runner.model)
        self.names, self.params = [], []
        for name, p in model.named_parameters():
            if p.requires_grad:
                self.names.append(name)
                self.params.append(p)
        self.groups: Dict[str, List[int]] = OrderedDict()
        for i, name in enumerate(self.names):
            key = '.'.join(name.split('.')[:-1][:self.group_depth]) or name
            self.groups.setdefault(key, []).append(i)
        ow = runner.optim_wrapper
        if isinstance(ow, OptimWrapperDict):
            self.report(runner, 'info', 'several optimizers (OptimWrapperDict): gradient '
                        'checks off, loss checks on.')
        else:
            self._optim_wrapper = ow
            self._amp = isinstance(ow, AmpOptimWrapper)
            # MMEngine's param schedulers may already have wrapped ``step`` in a counter
            # (instance attribute, flagged ``_with_counter``); keep that flag visible.
            self._orig_step = ow.step
            self._step_was_attr = 'step' in vars(ow)

            def step(*args, **kwargs):
                return self._step(*args, **kwargs)

            if hasattr(self._orig_step, '_with_counter'):
                step._with_counter = self._orig_step._with_counter
            ow.step = step
        self._model = model

    def after_train(self, runner) -> None:
        if self._optim_wrapper is not None:
            if self._step_was_attr:
                self._optim_wrapper.step = self._orig_step
            else:
                del self._optim_wrapper.step  # back to the class's method
            self._optim_wrapper = None

    def _step(self, *args, **kwargs):
        """The optimizer wrapper's ``step``, with gradient norms taken before it.

        A non-finite gradient skips the step (outside AMP, whose loss scaler skips such
        steps itself), so the weights that produced it stay intact for
        :meth:`_first_nonfinite_layer`.
        """
        if not self.enabled:
            return self._orig_step(*args, **kwargs)
        with torch.no_grad():
            self._grad_norms = self._param_grad_norms()
            if self.detect_nonfinite and not self._amp and \
                    not bool(torch.isfinite(self._grad_norms).all()):
                self._skipped_step = True
                return None
            before = [p.detach().clone() for p in self.params] if self._check else None
        out = self._orig_step(*args, **kwargs)
        if before is not None:
            with torch.no_grad():
                self._pending = (
                    torch.stack([b.float().norm() for b in before]),
                    torch.stack([(p.detach() - b).float().norm()
                                 for p, b in zip(self.params, before)]))
        return out

    def _param_grad_norms(self) -> torch.Tensor:
        """The norm of each parameter's gradient (0 where there is none), one tensor."""
        grads = [p.grad for p in self.params]
        have = [g for g in grads if g is not None]
        norms = iter(torch._foreach_norm(have) if have else [])  # one kernel per dtype/device
        zero = torch.zeros((), device=self.params[0].device)
        return torch.stack([next(norms).float() if g is not None else zero for g in grads])

    @torch.no_grad()
    def _first_nonfinite_layer(self, data_batch):
        """Re-runs the forward pass of ``data_batch`` with a hook on every leaf module and
        returns ``(index, name, type)`` of the first, in execution order, whose output is
        not finite, or None. Costs one forward pass, and only after a non-finite loss."""
        found = []

        def make(name):
            def hook(module, inputs, output):
                t = _first_tensor(output)
                if not found and t is not None and t.is_floating_point() and t.numel() \
                        and not bool(torch.isfinite(t).all()):
                    found.append((len(order), name, type(module).__name__))
                order.append(name)
            return hook

        order = []
        try:
            data = self._model.data_preprocessor(data_batch, True)
        except Exception:  # noqa: BLE001  a diagnosis must not hide the original failure
            return None
        inputs = _first_tensor(data.get('inputs'))
        if inputs is not None and not bool(torch.isfinite(inputs).all()):
            return (0, 'data_preprocessor', 'the network input itself')
        handles = [m.register_forward_hook(make(n)) for n, m in self._model.named_modules()
                   if not any(True for _ in m.children()) and m is not
                   self._model.data_preprocessor]
        try:
            self._model._run_forward(data, mode='loss')
        except Exception:  # noqa: BLE001  a diagnosis must not hide the original failure
            pass
        finally:
            for h in handles:
                h.remove()
        return found[0] if found else None

    # -- per iteration -----------------------------------------------------------------
    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if not self.enabled:
            return
        self._skipped_step = False
        self._check = self.every_n_train_iters(runner, self.interval) or runner.iter == 0
        self._grad_norms = self._pending = None

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if not self.enabled:
            return
        loss = (outputs or {}).get('loss')
        if isinstance(loss, torch.Tensor):
            value = float(loss.detach())
            if not math.isfinite(value) or self._skipped_step:
                self._nonfinite(runner, value, outputs, data_batch)
                return
            self._recent_losses = (self._recent_losses + [value])[-self.diverge_window:]
            self._check_divergence(runner)
        if self._check and self._pending is not None:
            self._periodic(runner)

    def _check_divergence(self, runner) -> None:
        """Loss, averaged over ``diverge_window`` iterations, ``diverge_factor`` times the
        lowest loss so far: the run is diverging; name the layer groups whose gradients
        grew the most since the start."""
        self._min_loss = min(self._min_loss, self._recent_losses[-1])
        if len(self._recent_losses) < self.diverge_window or 'diverge' in self._warned:
            return
        mean = sum(self._recent_losses) / len(self._recent_losses)
        if mean <= self.diverge_factor * self._min_loss or self._grad_norms is None:
            return
        self._warned.add('diverge')
        now = self._group_norms(self._grad_norms)
        growth = {g: now[g] / self._first_grad[g] for g in now
                  if self._first_grad.get(g, 0) > 0 and math.isfinite(now[g])}
        worst = sorted(growth, key=growth.get, reverse=True)[:3]
        layers = ', '.join(f'{g} (gradient norm x{growth[g]:.0f}: {self._first_grad[g]:.3g} '
                           f'-> {now[g]:.3g})' for g in worst)
        self.report(
            runner, 'warning',
            f'training is diverging: the loss averaged over {self.diverge_window} iterations '
            f'rose to {mean:.4g} at iteration {runner.iter + 1}, {mean / self._min_loss:.1f}x '
            f'the lowest loss so far ({self._min_loss:.4g}). Fastest-growing gradients: '
            f'{layers}. '
            f'{self._optim_desc(runner)} Lower the learning rate (10x to start with), '
            'lengthen warmup, or set optim_wrapper.clip_grad=dict(max_norm=...).')

    def _group_norms(self, per_param: torch.Tensor) -> Dict[str, float]:
        sq = (per_param.double() ** 2).tolist()
        return {g: math.sqrt(sum(sq[i] for i in idx)) for g, idx in self.groups.items()}

    def _periodic(self, runner) -> None:
        w_before, upd = self._pending
        w = self._group_norms(w_before)
        u = self._group_norms(upd)
        g = self._group_norms(self._grad_norms) if self._grad_norms is not None else {}
        for group, value in g.items():
            if value > 0 and math.isfinite(value):
                self._first_grad.setdefault(group, value)
        it = runner.iter + 1
        scalars = {}
        for group in self.groups:
            ratio = u[group] / w[group] if w[group] > 0 else 0.0
            gn = g.get(group, 0.0)
            self.history[group].append((it, w[group], gn, ratio))
            scalars.update({f'weight_norm/{group}': w[group], f'grad_norm/{group}': gn,
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
                + '; '.join(collapsing) + f'. {self._optim_desc(runner)} The loss gives these '
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
                f'. {self._optim_desc(runner)} Lower the learning rate, lengthen warmup or set '
                'optim_wrapper.clip_grad=dict(max_norm=...).')

    @staticmethod
    def _optim_desc(runner) -> str:
        try:
            group = runner.optim_wrapper.optimizer.param_groups[0]
            return (f'(lr={group.get("lr", float("nan")):.3g}, '
                    f'weight_decay={group.get("weight_decay", 0)})')
        except (AttributeError, IndexError):
            return ''

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

    def _nonfinite(self, runner, value: float, outputs, data_batch) -> None:
        losses = ', '.join(f'{k}={float(v.detach()) if isinstance(v, torch.Tensor) else v:.4g}'
                           for k, v in outputs.items())
        first_out = None
        if self.detect_nonfinite and data_batch is not None:
            first_out = self._first_nonfinite_layer(data_batch)
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
        elif self.detect_nonfinite:
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
        msg = (f'loss became {value} at iteration {runner.iter + 1} ({losses}); '
               + '; '.join(where) + '. '
               f'Last finite losses: {[round(x, 4) for x in self._recent_losses]} '
               f'{self._optim_desc(runner)}. {cause}')
        self.report(runner, 'error', msg)
