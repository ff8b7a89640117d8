"""Workarounds for defects of the pinned OpenMMLab stack that must stay a patch or a global
registration, each in one named place.

Applied once when :mod:`hda_plugin` is imported (configs pull it in through
``custom_imports``), so a stock MMDetection config with ``custom_imports`` gets them too
(numbered as in docs/upstream_defects.md):

2. mmengine 0.10.7 calls ``torch.load`` without ``weights_only``; torch >= 2.6 then
   refuses mmengine's own checkpoints when resuming or loading (fixed on mmengine main,
   unreleased), and older torch runs any code a checkpoint carries. Every path that loads
   a checkpoint (``load_from``, ``--resume``, ``init_cfg``, the tools) goes through
   ``CheckpointLoader``'s scheme for local files, and no config key selects another, so
   that scheme is re-registered: :func:`hda_plugin.safe_pickle.safe_torch_load`, an
   allowlist of the types MMEngine's checkpoints hold, no code.
3. mmengine's ``pytorch`` launcher calls ``torch.cuda.set_device`` and wraps the model
   in DDP with ``device_ids=[LOCAL_RANK]``; both fail on a machine without CUDA.
   :class:`CPUDistributedDataParallel` is registered in MMEngine's ``MODEL_WRAPPERS``, and
   the tools call :func:`init_cpu_distributed` (the launcher runs before any config-named
   component exists).

The other workarounds are components the configs name: defect 1, mmdet 3.3.0 SSD cannot
predict: ``model.bbox_head.type='PredictableSSDHead'`` (:mod:`hda_plugin.models`); defect 4,
mmengine 0.10.7's checkpoints and auto-resume are not crash-safe:
``default_hooks.checkpoint.type='CrashSafeCheckpointHook'`` and
``runner_type='CrashSafeRunner'`` (:mod:`hda_plugin.engine`).
Importing :mod:`hda_plugin` registers them and patches nothing else.
"""
import os
import os.path as osp

import torch
from mmengine.model import MMDistributedDataParallel
from mmengine.registry import MODEL_WRAPPERS

from .safe_pickle import safe_torch_load

__all__ = ['apply_patches', 'init_cpu_distributed', 'CPUDistributedDataParallel']

_APPLIED = False


def _patch_checkpoint_loader():
    """Defect 2: load local checkpoints with the allowlist of :mod:`hda_plugin.safe_pickle`.

    Only the local-path scheme is replaced (``CheckpointLoader`` prefix ``''``): the files
    the user names in ``--resume``/``load_from``/``init_cfg``. MMEngine pickles metadata
    (message hub history buffers, numpy scalars) that ``weights_only=True`` alone refuses;
    the allowlist admits exactly those, and a file with anything else fails naming it.
    """
    from mmengine.runner.checkpoint import CheckpointLoader

    def load_from_local(filename, map_location):
        filename = osp.expanduser(filename)
        if not osp.isfile(filename):
            raise FileNotFoundError(
                f'{filename} can not be found. Weights are read from local files only (nothing '
                'is downloaded): fix the path in the config (load_from, init_cfg.checkpoint, '
                'backbone_weights) or pass --cfg-options with the right one.')
        return safe_torch_load(filename, map_location=map_location)

    CheckpointLoader.register_scheme(prefixes='', force=True)(load_from_local)


class CPUDistributedDataParallel(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` for CPU training with gloo (defect 3, model side).

    mmengine's Runner passes ``device_ids=[LOCAL_RANK]``, which DDP rejects for a CPU
    module; this wrapper drops it.
    """

    def __init__(self, module, device_ids=None, **kwargs):
        super().__init__(module=module, device_ids=None, **kwargs)


def _register_cpu_ddp():
    if 'CPUDistributedDataParallel' not in MODEL_WRAPPERS.module_dict:
        MODEL_WRAPPERS.register_module(module=CPUDistributedDataParallel)


def init_cpu_distributed(cfg) -> bool:
    """Defect 3 (launcher side): start gloo ourselves when launched without CUDA.

    mmengine's Runner only calls ``init_dist`` (and its ``torch.cuda.set_device``) when no
    process group exists yet, so initialising one here sidesteps it. Also switches the
    model wrapper to :class:`CPUDistributedDataParallel`.

    Args:
        cfg (mmengine.Config): the run's config; ``cfg.launcher`` must be set.

    Returns:
        bool: True when a CPU process group was started.
    """
    import torch.distributed as dist
    if cfg.get('launcher', 'none') == 'none' or torch.cuda.is_available():
        return False
    if 'LOCAL_RANK' not in os.environ:
        raise RuntimeError(
            f'--launcher {cfg.launcher} needs the variables that torchrun sets (LOCAL_RANK, '
            'RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT). Start it with tools/dist_train.sh '
            'or `python -m torch.distributed.run ... tools/train.py CONFIG --launcher pytorch`.')
    if not dist.is_initialized():
        dist.init_process_group(backend='gloo')
    env_cfg = cfg.setdefault('env_cfg', {})
    env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'
    wrapper = cfg.get('model_wrapper_cfg') or {}
    wrapper = dict(wrapper)
    wrapper['type'] = 'CPUDistributedDataParallel'
    cfg.model_wrapper_cfg = wrapper
    return True


def apply_patches():
    """Applies every workaround above once (idempotent)."""
    global _APPLIED
    if _APPLIED:
        return
    _patch_checkpoint_loader()
    _register_cpu_ddp()
    _APPLIED = True
