"""``CrashSafeCheckpointHook``: MMEngine's ``CheckpointHook``, safe against ``kill -9``.

mmengine 0.10.7's ``CheckpointHook._save_checkpoint_with_step`` removes the checkpoint that
falls out of ``max_keep_ckpts`` *before* writing the new one, and writes the checkpoint and
``last_checkpoint`` in place: a training killed during a save with ``max_keep_ckpts=1`` was
left with a cut file only, and an empty ``last_checkpoint``. The HDA configs name this hook
in ``default_hooks.checkpoint`` (configs/_base_/hda_runtime.py).
"""
import os.path as osp
from pathlib import Path
from typing import Optional, Union

from mmdet.registry import HOOKS
from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook

from ...fileio.atomic import write_atomic
from ..checkpoints import ATOMIC_LOCAL_BACKEND

__all__ = ['CrashSafeCheckpointHook']


def _is_local(path: Union[str, Path, None]) -> bool:
    """True for None (the work dir) and a plain path; False for ``s3://...`` and the like."""
    return path is None or '://' not in str(path)


@HOOKS.register_module()
class CrashSafeCheckpointHook(CheckpointHook):
    """``CheckpointHook`` that saves the new checkpoint, points ``last_checkpoint`` at it,
    and only then removes the one that falls out of ``max_keep_ckpts``; local files are
    written atomically.

    At any moment of a save the work dir holds a complete checkpoint that
    ``last_checkpoint`` names (or that :class:`~hda_plugin.engine.runner.CrashSafeRunner`
    finds when ``last_checkpoint`` is behind): with ``max_keep_ckpts=N`` there are N or
    N + 1 checkpoints on disk, never N - 1 and a cut one.

    Args:
        interval, by_epoch: as :class:`mmengine.hooks.CheckpointHook`.
        out_dir (str | Path, optional): as ``CheckpointHook``. Defaults to None (the work
            dir).
        backend_args (dict, optional): as ``CheckpointHook``. Defaults to None, which for a
            local ``out_dir`` means ``dict(backend='atomic_local')``
            (:class:`~hda_plugin.engine.checkpoints.AtomicLocalBackend`: each file written
            to ``<file>.part<pid>`` and renamed when whole). Give another backend to save
            elsewhere (its writes are then as atomic as that backend makes them).
        file_client_args (dict, optional): deprecated by MMEngine; when given, it is used
            and ``backend_args`` stays None.
        **kwargs: the other arguments of ``CheckpointHook`` (``max_keep_ckpts``,
            ``save_best``, ``filename_tmpl``, ...).
    """

    def __init__(self, interval: int = -1, by_epoch: bool = True, *,
                 out_dir: Optional[Union[str, Path]] = None,
                 backend_args: Optional[dict] = None,
                 file_client_args: Optional[dict] = None, **kwargs) -> None:
        if backend_args is None and file_client_args is None and _is_local(out_dir):
            backend_args = dict(backend=ATOMIC_LOCAL_BACKEND)
        super().__init__(interval=interval, by_epoch=by_epoch, out_dir=out_dir,
                         backend_args=backend_args, file_client_args=file_client_args,
                         **kwargs)

    def _save_checkpoint_with_step(self, runner, step, meta):
        """Save, point ``last_checkpoint`` at the new file (atomically), then remove the
        outdated one: the order of mmengine 0.10.7's method, reversed."""
        outdated = None
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and
                                            self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))
        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir, ckpt_filename, self.file_client_args,
            save_optimizer=self.save_optimizer, save_param_scheduler=self.save_param_scheduler,
            meta=meta, by_epoch=self.by_epoch, backend_args=self.backend_args, **self.args)
        # Model-parallel training gathers sharded states on every rank; only rank 0 writes.
        if not is_main_process():
            return
        write_atomic(self.last_ckpt, osp.join(runner.work_dir, 'last_checkpoint'), mode='w',
                     encoding='utf-8')
        if outdated is not None and outdated != step:
            old = self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(outdated))
            if self.file_backend.isfile(old):
                self.file_backend.remove(old)
            elif self.file_backend.isdir(old):  # checkpoints saved by deepspeed are folders
                self.file_backend.rmtree(old)
