"""Workarounds for defects of the pinned OpenMMLab stack, each in one named place.

Applied once when :mod:`hda_plugin` is imported (configs pull it in through
``custom_imports``), so a stock MMDetection config with ``custom_imports`` gets them too.

1. mmdet 3.3.0 SSD cannot predict: ``BaseDenseHead._predict_by_feat_single`` reads
   ``self.loss_cls``, which ``SSDHead`` never defines (open-mmlab/mmdetection#11063,
   #11305, #11780; fix PR #11524 unmerged).
2. mmengine 0.10.7 calls ``torch.load`` without ``weights_only``; torch >= 2.6 then
   refuses mmengine's own checkpoints when resuming or loading (fixed on mmengine main,
   unreleased), and older torch runs any code a checkpoint carries. Local checkpoints
   load through :func:`hda_plugin.safe_pickle.safe_torch_load` instead: an allowlist of
   the types MMEngine's checkpoints hold, no code.
3. mmengine's ``pytorch`` launcher calls ``torch.cuda.set_device`` and wraps the model
   in DDP with ``device_ids=[LOCAL_RANK]``; both fail on a machine without CUDA.
4. mmengine 0.10.7's ``CheckpointHook`` deletes the oldest checkpoint before writing the
   new one, and local files (checkpoints, ``last_checkpoint``) are written in place; its
   auto-resume trusts ``last_checkpoint`` blindly. :mod:`hda_plugin.engine.checkpoints`
   reorders the save, writes atomically, and resumes from the newest complete checkpoint.
"""
import os
import os.path as osp

import torch
from mmengine.model import MMDistributedDataParallel
from mmengine.registry import MODEL_WRAPPERS

from .safe_pickle import safe_torch_load

__all__ = ['apply_patches', 'init_cpu_distributed', 'CPUDistributedDataParallel']

_APPLIED = False


def _patch_ssd_head_loss_cls():
    """Defect 1: give ``SSDHead`` the ``loss_cls`` attribute its base class reads.

    SSD computes its classification loss inline (hard negative mining), so it has no
    loss module; ``None`` makes ``getattr(None, 'custom_cls_channels', False)`` False and
    prediction takes the softmax branch, as PR #11524 intends.
    """
    from mmdet.models.dense_heads import SSDHead
    if 'loss_cls' not in SSDHead.__dict__:
        SSDHead.loss_cls = None


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


def _patch_crash_safe_checkpoints():
    """Defect 4: atomic local writes, save-then-remove, a resume that skips cut files."""
    from mmengine.fileio.backends import LocalBackend
    from mmengine.hooks import CheckpointHook
    from mmengine.runner import runner as runner_module

    from .engine.checkpoints import find_resumable_checkpoint, save_checkpoint_with_step
    from .fileio.atomic import write_atomic

    def put(self, obj, filepath):
        write_atomic(obj, str(filepath), mode='wb')

    def put_text(self, obj, filepath, encoding='utf-8'):
        write_atomic(obj, str(filepath), mode='w', encoding=encoding)

    LocalBackend.put, LocalBackend.put_text = put, put_text
    CheckpointHook._save_checkpoint_with_step = save_checkpoint_with_step
    runner_module.find_latest_checkpoint = find_resumable_checkpoint  # Runner.load_or_resume


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
    _patch_ssd_head_loss_cls()
    _patch_checkpoint_loader()
    _patch_crash_safe_checkpoints()
    _register_cpu_ddp()
    _APPLIED = True
