"""What the gradient-watching hooks share: trainable parameters, per-parameter gradient
norms in one kernel, norms per layer group, and the optimizer settings for messages."""
import math
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

import torch

__all__ = ['trainable_params', 'layer_groups', 'grad_norms', 'step_grad_norms', 'group_norms',
           'optim_desc', 'first_tensor']


def trainable_params(model) -> Tuple[List[str], List[torch.nn.Parameter]]:
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    return [n for n, _ in named], [p for _, p in named]


def layer_groups(names: List[str], depth: int) -> Dict[str, List[int]]:
    """Parameter indices per layer group: the name cut to ``depth`` parts
    (``backbone.features``, ``bbox_head.cls_convs``, ...)."""
    groups: Dict[str, List[int]] = OrderedDict()
    for i, name in enumerate(names):
        key = '.'.join(name.split('.')[:-1][:depth]) or name
        groups.setdefault(key, []).append(i)
    return groups


def grad_norms(params: List[torch.nn.Parameter]) -> torch.Tensor:
    """The norm of each parameter's gradient (0 where there is none), one tensor."""
    grads = [p.grad for p in params]
    have = [g for g in grads if g is not None]
    norms = iter(torch._foreach_norm(have) if have else [])  # one kernel per dtype/device
    zero = torch.zeros((), device=params[0].device)
    return torch.stack([next(norms).float() if g is not None else zero for g in grads])


_STEP_NORMS: list = [None, None]  # (key, norms) of the last optimizer step asked about


def step_grad_norms(optim_wrapper, params: List[torch.nn.Parameter]) -> torch.Tensor:
    """:func:`grad_norms` at the optimizer step under way, computed once however many
    hooks ask during it (the step is keyed by the wrapper's backward count, which MMEngine's
    ``OptimWrapper.backward`` advances; without one, computed every time)."""
    count = getattr(optim_wrapper, '_inner_count', None)
    if count is None or not params:
        return grad_norms(params)
    key = (id(optim_wrapper), count, id(params[0]), len(params))
    if _STEP_NORMS[0] != key:
        _STEP_NORMS[:] = [key, grad_norms(params)]
    return _STEP_NORMS[1]


def group_norms(per_param: torch.Tensor, groups: Dict[str, List[int]]) -> Dict[str, float]:
    """The norm over each group of the per-parameter norms ``per_param``."""
    sq = (per_param.double() ** 2).tolist()
    return {g: math.sqrt(sum(sq[i] for i in idx)) for g, idx in groups.items()}


def optim_desc(runner) -> str:
    """``(lr=..., weight_decay=...)`` of the first parameter group, for messages."""
    try:
        group = runner.optim_wrapper.optimizer.param_groups[0]
        return (f'(lr={group.get("lr", float("nan")):.3g}, '
                f'weight_decay={group.get("weight_decay", 0)})')
    except (AttributeError, IndexError):
        return ''


def first_tensor(output) -> Optional[torch.Tensor]:
    """The first tensor in a module output (a tensor, or nested lists/tuples)."""
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, (list, tuple)):
        for o in output:
            t = first_tensor(o)
            if t is not None:
                return t
    return None
