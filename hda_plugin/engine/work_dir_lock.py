"""One training per work dir: a lock file that names the run holding it.

Two trainings in one ``--work-dir`` both exited 0 while one overwrote the other's
checkpoints. ``tools/train.py`` takes ``WORK_DIR/.hda-ssd.lock`` (rank 0 only) before it
builds anything; a second run fails at once, naming the first. A lock left by a process
that died (``kill -9``, a crash) is detected and taken over, with a warning.
"""
import json
import os
import os.path as osp
import socket
import sys
import time
from contextlib import contextmanager

from mmengine.logging import print_log

__all__ = ['WorkDirInUseError', 'work_dir_lock', 'process_alive', 'LOCK_NAME']

LOCK_NAME = '.hda-ssd.lock'


class WorkDirInUseError(RuntimeError):
    """Another training holds the work dir."""


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


def _holder(path: str) -> dict:
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


@contextmanager
def work_dir_lock(work_dir: str):
    """Holds ``work_dir``'s lock for the ``with`` block (a no-op on ranks other than 0)."""
    if int(os.environ.get('RANK', os.environ.get('LOCAL_RANK', '0')) or 0) != 0:
        yield None
        return
    os.makedirs(work_dir, exist_ok=True)
    path = osp.join(work_dir, LOCK_NAME)
    me = dict(pid=os.getpid(), host=socket.gethostname(),
              started=time.strftime('%Y-%m-%d %H:%M:%S'), command=' '.join(sys.argv))
    for attempt in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            other = _holder(path)
            pid, host = other.get('pid'), other.get('host')
            stale = isinstance(pid, int) and host == me['host'] and not process_alive(pid)
            if attempt == 0 and stale:
                print_log(f'{path}: left by process {pid}, which is no longer running (started '
                          f'{other.get("started")}); taking the work dir over.',
                          logger='current', level=30)
                os.remove(path)
                continue
            where = f'process {pid} on {host}' if pid else 'a run whose lock is unreadable'
            raise WorkDirInUseError(
                f'{work_dir} is in use by another training: {where}, started '
                f'{other.get("started", "?")} ({other.get("command", "?")}). Two runs in one '
                'work dir overwrite each other\'s checkpoints: wait for it, stop it, or give '
                f'this run its own --work-dir. If that run is gone (another machine), delete '
                f'{path}.') from None
        with os.fdopen(fd, 'w', encoding='utf-8') as f:
            json.dump(me, f)
        break
    try:
        yield path
    finally:
        if _holder(path).get('pid') == me['pid']:
            os.remove(path)
