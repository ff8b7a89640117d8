"""One writer per output folder: an ``flock`` on ``<folder>/.hda-ssd.lock``, the holder
(PID, host, command, start time) written inside for the error of the next one.

Two ``tools/infer.py --name X`` runs into one detector folder both exited 0 with their
files mixed. The lock is the kernel's (``fcntl.flock``): it goes with the process that
held it, so a lock left by a process that died (``kill -9``, a crash) blocks nothing. The
file stays (removing it would let two later runs lock two different files).
"""
import json
import os
import os.path as osp
import socket
import sys
import time
from typing import Optional

__all__ = ['FolderInUseError', 'FolderLock', 'FOLDER_LOCK_NAME']

#: The lock file in a locked folder.
FOLDER_LOCK_NAME = '.hda-ssd.lock'


class FolderInUseError(RuntimeError):
    """Another process writes the folder."""


class FolderLock:
    """Holds ``folder``'s lock for a ``with`` block (or :meth:`acquire` / :meth:`release`).

    Args:
        folder: the folder written (created if missing).
        what: what the folder is, for the error (``detector folder``).
        hint: what to do instead, for the error.
    """

    def __init__(self, folder: str, what: str = 'detector folder',
                 hint: str = 'wait for it, stop it, or write another folder (--name)'):
        self.folder, self.what, self.hint = folder, what, hint
        self.path = osp.join(folder, FOLDER_LOCK_NAME)
        self._fd: Optional[int] = None

    def holder(self) -> dict:
        """What the lock file says about its holder ({} when unreadable or empty)."""
        try:
            with open(self.path, encoding='utf-8') as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def acquire(self) -> 'FolderLock':
        import fcntl
        os.makedirs(self.folder, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            other = self.holder()
            who = (f'process {other.get("pid")} on {other.get("host")}, started '
                   f'{other.get("started", "?")} ({other.get("command", "?")})'
                   if other.get('pid') else 'a process that has not yet written its name')
            raise FolderInUseError(
                f'{self.folder} is being written by another hda-ssd run: {who}. Two writers '
                f'in one {self.what} mix their files: {self.hint}.') from None
        me = dict(pid=os.getpid(), host=socket.gethostname(),
                  started=time.strftime('%Y-%m-%d %H:%M:%S'), command=' '.join(sys.argv))
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me).encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        import fcntl
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)  # no stale name for the next reader
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
