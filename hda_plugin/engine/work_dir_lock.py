"""One training per work dir: a lock file that names the run holding it.

Two trainings in one ``--work-dir`` both exited 0 while one overwrote the other's
checkpoints. ``tools/train.py`` takes ``WORK_DIR/.hda-ssd.lock`` (rank 0 only) before it
builds anything; a second run fails at once, naming the first. A lock left by a process
that died (``kill -9``, a crash) is taken over, with a warning.

The lock is the kernel's ``flock`` on that file, held as long as the run keeps it open: the
kernel releases it when the process dies, and exactly one process gets it, however many try
at once. (Checking the PID written in the file, removing a stale file and creating it again
let two ``--resume`` jobs started together after a crash both hold the lock: the second
remover deleted the first one's fresh file.) The file's content (PID, host, start time,
command) only names the holder in the messages.
"""
import errno
import fcntl
import json
import os
import os.path as osp
import socket
import sys
import time
from contextlib import contextmanager
from typing import Optional

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


def _in_use(work_dir: str, path: str, other: dict) -> WorkDirInUseError:
    pid, host = other.get('pid'), other.get('host')
    where = f'process {pid} on {host}' if pid else 'a run whose lock is unreadable'
    return WorkDirInUseError(
        f'{work_dir} is in use by another training: {where}, started '
        f'{other.get("started", "?")} ({other.get("command", "?")}). Two runs in one '
        'work dir overwrite each other\'s checkpoints: wait for it, stop it, or give '
        f'this run its own --work-dir. If that run is gone (another machine), delete '
        f'{path}.')


def _holder_of_locked(path: str) -> dict:
    """The holder named in a file another process has locked. It writes its name just after
    taking the lock, so a file that is empty or still names a dead process (the one whose
    lock was just taken over) is read again for a moment."""
    deadline = time.monotonic() + 2.0
    while True:
        other = _holder(path)
        pid = other.get('pid')
        named = isinstance(pid, int) and (other.get('host') != socket.gethostname()
                                          or process_alive(pid))
        if named or time.monotonic() > deadline:
            return other
        time.sleep(0.05)


def _acquire(work_dir: str, path: str, me: dict) -> int:
    """An open descriptor of ``path`` holding its ``flock``, with ``me`` written into it."""
    while True:
        try:  # whether this call created the file decides who owns it without flock
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
            created = True
        except FileExistsError:
            try:
                fd = os.open(path, os.O_RDWR)
            except FileNotFoundError:  # its holder removed it meanwhile: again
                continue
            created = False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise _in_use(work_dir, path, _holder_of_locked(path)) from None
        except OSError as e:
            if e.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS):
                if not created:
                    os.close(fd)
                return _acquire_without_flock(work_dir, path, me, e,
                                              fd if created else None)
            os.close(fd)
            if created:
                os.remove(path)
            raise
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if not same:  # the holder removed the file between our open and our lock: again
            os.close(fd)
            continue
        other = _holder(path)
        if other:
            pid, host = other.get('pid'), other.get('host')
            if host != me['host']:
                # another machine's run: our flock says nothing about it where locks are
                # local to each client (some network filesystems)
                os.close(fd)
                raise _in_use(work_dir, path, other)
            print_log(f'{path}: left by process {pid}, which no longer holds it (killed or '
                      f'crashed; started {other.get("started")}); taking the work dir over.',
                      logger='current', level=30)
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me).encode('utf-8'), 0)
        return fd


def _acquire_without_flock(work_dir: str, path: str, me: dict, why: OSError,
                           fd: Optional[int] = None) -> int:
    """Filesystems without file locks: the file's creation is the lock (``O_EXCL``), and a
    lock left behind is not taken over (nothing tells a dead holder from a live one
    atomically there). ``fd``: the file, when the caller has just created it (``O_EXCL``)."""
    if fd is None:
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o644)
        except FileExistsError:
            err = _in_use(work_dir, path, _holder_of_locked(path))
            raise WorkDirInUseError(
                f'{err} This filesystem has no file locks ({why.strerror}): the lock is the '
                f'file itself, and one left by a killed run stays until deleted by hand.'
            ) from None
    print_log(f'{path}: this filesystem has no file locks ({why.strerror}); the lock is the '
              'file itself, and a lock left by a killed run must be deleted by hand.',
              logger='current', level=30)
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(me).encode('utf-8'), 0)
    return fd


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
    fd = _acquire(work_dir, path, me)
    try:
        yield path
    finally:
        # removed while still locked: a process that opened this file before the removal
        # finds, once it has the lock, that the path is no longer its file, and starts over
        try:
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                os.remove(path)
        except FileNotFoundError:
            pass
        os.close(fd)
