"""Crash-safe training state: atomic files, the oldest checkpoint removed only after the new
one is complete, and a resume that falls back to the newest loadable checkpoint.

mmengine 0.10.7 (``CheckpointHook._save_checkpoint_with_step``) deletes the oldest
checkpoint *before* writing the new one and writes both the checkpoint and
``last_checkpoint`` in place: a ``kill -9`` during a save with ``max_keep_ckpts=1`` left only
a cut file, and an empty ``last_checkpoint`` made ``--resume`` fail although a good
checkpoint existed. :mod:`hda_plugin.compat` (defect 4) installs the functions below.
"""
import os
import os.path as osp
import re
import zipfile
from typing import List, Optional

from mmengine.dist import is_main_process
from mmengine.logging import print_log

from ..fileio.atomic import PARTIAL_SUFFIX, write_atomic
from .work_dir_lock import process_alive

__all__ = ['save_checkpoint_with_step', 'find_resumable_checkpoint',
           'is_complete_checkpoint']


def is_complete_checkpoint(path: str) -> bool:
    """True when ``path`` is a whole zip-format ``.pth`` (its central directory, written
    last, is there and lists the pickle): a cut file fails this without being unpickled."""
    try:
        with zipfile.ZipFile(path) as z:
            return any(n.endswith('data.pkl') for n in z.namelist())
    except (OSError, zipfile.BadZipFile):
        return False


def save_checkpoint_with_step(self, runner, step, meta):
    """``CheckpointHook._save_checkpoint_with_step``, reordered: save the new checkpoint,
    point ``last_checkpoint`` at it (atomically), then remove the one that falls out of
    ``max_keep_ckpts``."""
    outdated = None
    if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
        if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
            outdated = self.keep_ckpt_ids.popleft()
        self.keep_ckpt_ids.append(step)
        runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))
    ckpt_filename = self.filename_tmpl.format(step)
    self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
    runner.message_hub.update_info('last_ckpt', self.last_ckpt)
    runner.save_checkpoint(
        self.out_dir, ckpt_filename, self.file_client_args, save_optimizer=self.save_optimizer,
        save_param_scheduler=self.save_param_scheduler, meta=meta, by_epoch=self.by_epoch,
        backend_args=self.backend_args, **self.args)
    if not is_main_process():
        return
    write_atomic(self.last_ckpt, osp.join(runner.work_dir, 'last_checkpoint'), mode='w',
                 encoding='utf-8')
    if outdated is not None and outdated != step:
        old = self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(outdated))
        if self.file_backend.isfile(old):
            self.file_backend.remove(old)
        elif self.file_backend.isdir(old):  # checkpoints saved by deepspeed are directories
            self.file_backend.rmtree(old)


def _candidates(work_dir: str) -> List[str]:
    """``.pth`` files of ``work_dir``, newest first (by the number in ``iter_N``/``epoch_N``,
    then by time)."""
    if not osp.isdir(work_dir):
        return []
    found = []
    for name in os.listdir(work_dir):
        if name.endswith('.pth'):
            m = re.search(r'(\d+)\.pth$', name)
            path = osp.join(work_dir, name)
            found.append((int(m.group(1)) if m else -1, osp.getmtime(path), path))
    return [p for _, _, p in sorted(found, reverse=True)]


def _remove_partial_files(work_dir: str) -> None:
    """Temporary files of :func:`~hda_plugin.fileio.atomic.write_atomic` whose writer died
    (``kill -9`` mid-save)."""
    for name in os.listdir(work_dir) if osp.isdir(work_dir) else []:
        m = re.search(re.escape(PARTIAL_SUFFIX) + r'(\d+)$', name)
        if m and not process_alive(int(m.group(1))):
            os.remove(osp.join(work_dir, name))
            print_log(f'resume: removed {name}, a save interrupted when process '
                      f'{m.group(1)} died.', logger='current', level=30)


def find_resumable_checkpoint(work_dir: str) -> Optional[str]:
    """What ``--resume`` (auto) continues from: the checkpoint ``last_checkpoint`` names
    when it is complete; otherwise the newest complete checkpoint in ``work_dir``, saying
    why; None when there is none. Leftovers of interrupted saves are removed."""
    _remove_partial_files(work_dir)
    save_file = osp.join(work_dir, 'last_checkpoint')
    named = None
    if osp.isfile(save_file):
        with open(save_file, encoding='utf-8', errors='replace') as f:
            named = f.read().strip() or None
    if named and is_complete_checkpoint(named):
        return named
    candidates = _candidates(work_dir)
    for path in candidates:
        if is_complete_checkpoint(path):
            why = (f'{save_file} is missing' if not osp.isfile(save_file) else
                   f'{save_file} is empty' if not named else
                   f'{named}, which {save_file} names, is missing or incomplete')
            print_log(f'resume: {why}; resuming from {path}, the newest complete checkpoint '
                      f'in {work_dir}.', logger='current', level=30)
            return path
        print_log(f'resume: {path} is incomplete (a save that did not finish); skipped.',
                  logger='current', level=30)
    if osp.isfile(save_file) or candidates:
        print_log(f'resume: no complete checkpoint in {work_dir}; training starts anew.',
                  logger='current', level=30)
    return None
