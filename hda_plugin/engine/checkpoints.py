"""Crash-safe training state: atomic checkpoint files, and the checkpoint a resume can
trust.

mmengine 0.10.7 writes local checkpoints in place (``LocalBackend.put``) and its auto-resume
(``find_latest_checkpoint``) trusts ``last_checkpoint`` blindly: a ``kill -9`` during a save
left a cut file, and an empty or stale ``last_checkpoint`` made ``--resume`` fail although a
good checkpoint existed. Here, for the components the configs name:

- :class:`AtomicLocalBackend`, file backend ``'atomic_local'``: local files written whole or
  not at all; :class:`~hda_plugin.engine.hooks.CrashSafeCheckpointHook` saves through it;
- :func:`find_resumable_checkpoint`: what :class:`~hda_plugin.engine.runner.CrashSafeRunner`
  auto-resumes from.
"""
import os
import os.path as osp
import re
import zipfile
from typing import List, Optional

from mmengine.fileio import LocalBackend, register_backend
from mmengine.logging import print_log

from ..fileio.atomic import PARTIAL_SUFFIX, write_atomic
from .work_dir_lock import process_alive

__all__ = ['AtomicLocalBackend', 'ATOMIC_LOCAL_BACKEND', 'find_resumable_checkpoint',
           'is_complete_checkpoint']

#: the name :class:`AtomicLocalBackend` is registered under (``backend_args=dict(backend=...)``)
ATOMIC_LOCAL_BACKEND = 'atomic_local'


class AtomicLocalBackend(LocalBackend):
    """MMEngine's local file backend, writing each file atomically.

    ``LocalBackend.put``/``put_text`` write in place, so a process killed during a save
    leaves a cut file under the final name. Here the bytes go to ``<file>.part<pid>``,
    which is flushed and renamed to ``<file>`` once whole
    (:func:`~hda_plugin.fileio.atomic.write_atomic`); a reader sees the old file or the
    new one. Selected with ``backend_args=dict(backend='atomic_local')``: MMEngine's own
    ``LocalBackend`` is left as it is.
    """

    def put(self, obj: bytes, filepath) -> None:
        write_atomic(obj, str(filepath), mode='wb')

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        write_atomic(obj, str(filepath), mode='w', encoding=encoding)


register_backend(ATOMIC_LOCAL_BACKEND, AtomicLocalBackend, force=True)


def is_complete_checkpoint(path: str) -> bool:
    """True when ``path`` is a whole zip-format ``.pth`` (its central directory, written
    last, is there and lists the pickle): a cut file fails this without being unpickled.

    Only local files are checked: a remote path (``s3://...``, any ``://``) or a directory
    (a DeepSpeed checkpoint) is trusted as it is, as MMEngine's ``find_latest_checkpoint``
    does."""
    if '://' in path or osp.isdir(path):
        return True
    try:
        with zipfile.ZipFile(path) as z:
            return any(n.endswith('data.pkl') for n in z.namelist())
    except (OSError, zipfile.BadZipFile):
        return False


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
    (``kill -9`` mid-save): only the names a save stages in a work dir, a checkpoint's
    ``<name>.pth.part<pid>`` and ``last_checkpoint.part<pid>``. Anything else ending in
    ``.part<N>`` is the user's (a ``notes.part3999999`` was deleted once) and stays."""
    for name in os.listdir(work_dir) if osp.isdir(work_dir) else []:
        m = re.fullmatch(r'(?:.+\.pth|last_checkpoint)' + re.escape(PARTIAL_SUFFIX) + r'(\d+)',
                         name)
        if m and not process_alive(int(m.group(1))):
            try:
                os.remove(osp.join(work_dir, name))
            except FileNotFoundError:  # another rank of the same resume removed it
                continue
            print_log(f'resume: removed {name}, a save interrupted when process '
                      f'{m.group(1)} died.', logger='current', level=30)


def find_resumable_checkpoint(work_dir: str) -> Optional[str]:
    """What ``--resume`` (auto) continues from: the checkpoint ``last_checkpoint`` names
    when it is complete (a remote path or a directory it names is taken unchecked);
    otherwise the newest complete checkpoint in ``work_dir``, saying why; None when there
    is none. Leftovers of interrupted saves are removed."""
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
