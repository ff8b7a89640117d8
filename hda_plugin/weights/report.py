"""Which weights a training run will start from, stated plainly before it starts."""
import os
import os.path as osp
from typing import List, Mapping, Optional

from mmengine.config import Config

__all__ = ['explain_weights', 'pretrained_init']


def pretrained_init(init_cfg) -> Optional[dict]:
    """The ``dict(type='Pretrained', checkpoint=...)`` item of an ``init_cfg``, or None."""
    for item in init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]:
        if isinstance(item, Mapping) and item.get('type') == 'Pretrained':
            return item
    return None


def _pretrained_inits(cfg: Config) -> List[str]:
    """``path: checkpoint`` of every ``init_cfg=dict(type='Pretrained')`` in ``cfg.model``."""
    found = []

    def walk(node, path):
        if isinstance(node, Mapping):
            pre = pretrained_init(node.get('init_cfg'))
            if pre is not None:
                found.append(f'{path or "model"}: {pre.get("checkpoint")}')
            for k, v in node.items():
                if k != 'init_cfg':
                    walk(v, f'{path}.{k}' if path else k)

    walk(cfg.get('model', {}), '')
    return found


def explain_weights(cfg: Config, resume) -> tuple:
    """Which weights a training run will start from, stated plainly.

    Args:
        cfg: the config before ``--resume`` is applied to it.
        resume: ``tools/train.py``'s ``--resume`` value: None, ``'auto'`` or a path.

    Returns:
        ``(level, message)``, level ``'warning'`` when the choice is likely not what the
        user meant (checkpoints in the work dir ignored, a ``load_from`` overridden, nothing
        to resume from), else ``'info'``.
    """
    from mmengine.runner import find_latest_checkpoint
    work_dir = cfg.work_dir
    ckpts = sorted(f for f in os.listdir(work_dir) if f.endswith('.pth')) \
        if osp.isdir(work_dir) else []
    latest = find_latest_checkpoint(work_dir) if ckpts else None
    load_from = cfg.get('load_from')
    inits = _pretrained_inits(cfg)
    if load_from:
        fresh = f'load_from={load_from} (weights only, from iteration 0)'
    elif inits:
        fresh = 'pretrained init_cfg (' + '; '.join(inits) + '), the rest initialised'
    else:
        fresh = 'random initialisation (no load_from, no pretrained init_cfg)'
    if resume is None:
        if not ckpts:
            return 'info', f'weights: training starts from {fresh}.'
        return 'warning', (
            f'weights: {work_dir} already holds {len(ckpts)} checkpoint(s) (latest: '
            f'{latest or ckpts[-1]}) but --resume was not given, so they are NOT used: '
            f'training starts from {fresh} at iteration 0, and checkpoints with the same '
            f'names will be overwritten. Pass --resume to continue from the latest one, or '
            f'--work-dir to keep both runs.')
    target = latest if resume == 'auto' else resume
    if target is None:
        return 'warning', (
            f'weights: --resume was given but {work_dir} holds no checkpoint, so nothing is '
            'resumed: training starts from random initialisation and any pretrained '
            'init_cfg at iteration 0' + (f'; load_from={load_from} is NOT used.'
                                         if load_from else '.'))
    msg = (f'weights: resuming from {target} (weights, optimizer state and iteration '
           'count)')
    if load_from and osp.abspath(load_from) != osp.abspath(target):
        return 'warning', f'{msg}; load_from={load_from} from the config is NOT used.'
    return 'info', msg + '.'


