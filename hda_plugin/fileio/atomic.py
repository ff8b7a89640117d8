"""The one atomic file write: the data is staged as ``<name>.part<pid>`` beside the final
name, flushed to disk and renamed; a reader sees the old file or the new one, never a part.

:class:`AtomicWriter` is the base of every streamed writer (``allD.txt``, the COCO json,
the annotated ``.mp4``): :meth:`~AtomicWriter.commit` and :meth:`~AtomicWriter.abort` are
written once here, a subclass only says how its staged file is finished and closed.
:func:`atomic_open` and :func:`write_atomic` are the same mechanism for a plain file.
"""
import contextlib
import errno
import os
import os.path as osp
from typing import IO, Iterator, Optional

__all__ = ['AtomicWriter', 'AtomicFile', 'write_atomic', 'atomic_open', 'PARTIAL_SUFFIX',
           'staged_path', 'OutputWriteError', 'writing']

#: ``<file>.part<pid>``: the staged name while ``<file>`` is written by process ``pid``.
PARTIAL_SUFFIX = '.part'


def staged_path(path: str) -> str:
    """``path.part<pid>``, the name ``path`` is written under by this process."""
    return f'{path}{PARTIAL_SUFFIX}{os.getpid()}'


class OutputWriteError(OSError):
    """Writing an output file failed (a full disk, a lost mount, ...): the message names
    the file and the cause; ``errno`` is the original error's."""


def _cause(e: OSError) -> str:
    if e.errno == errno.ENOSPC:
        return 'the disk is full (ENOSPC): free space there, or write to another --out-dir'
    if e.errno == errno.EDQUOT:
        return 'the disk quota is exceeded (EDQUOT)'
    code = errno.errorcode.get(e.errno, '') if e.errno else ''
    return f'{e.strerror or e}' + (f' ({code})' if code else '')


@contextlib.contextmanager
def writing(path: str) -> Iterator[None]:
    """Turns an ``OSError`` raised in the block into an :class:`OutputWriteError` that
    names ``path`` (Python's own write errors name no file)."""
    try:
        yield
    except OutputWriteError:
        raise
    except OSError as e:
        raise OutputWriteError(e.errno, f'{path}: cannot write it: {_cause(e)}') from e


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: str) -> None:
    """Flushes ``folder``'s entries (a rename in it) to disk; a platform or filesystem that
    refuses to open or fsync a folder is left as it is."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, 'O_DIRECTORY', 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class AtomicWriter:
    """Base of the writers whose file appears under its name only when complete.

    The subclass writes to :attr:`staged` (``<path>.part<pid>``, its folders created here)
    and implements :meth:`_close_staged` (write what ends the file, close it);
    :meth:`_discard_staged` (close without finishing, errors ignored) defaults to it.

    * :meth:`commit`: finishes and closes the staged file, flushes it to disk (``fsync``),
      renames it to :attr:`path` and flushes the folder (the rename). If any step fails the
      staged file is removed and the error raised (an ``OSError`` as
      :class:`OutputWriteError`, naming :attr:`path`); ``path`` is then as it was.
    * :meth:`abort`: closes and removes the staged file; ``path`` is left as it was.
    * As a context manager: commits when the block ends, aborts when it raises.

    Both are idempotent once one of them has run (:attr:`done`).
    """

    def __init__(self, path: str):
        os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
        self.path = path
        self.staged = staged_path(path)
        self.done = False

    def _close_staged(self) -> None:
        """Writes what ends the file (a trailer, an index) and closes it."""
        raise NotImplementedError

    def _discard_staged(self) -> None:
        """Closes the staged file without caring whether it is complete."""
        self._close_staged()

    def commit(self) -> None:
        """The staged file, flushed to disk, becomes :attr:`path`."""
        if self.done:
            return
        try:
            with writing(self.path):
                self._close_staged()
                _fsync(self.staged)
                os.replace(self.staged, self.path)
                _fsync_dir(osp.dirname(osp.abspath(self.path)))  # the rename survives power loss
        except BaseException:
            self.done = True
            self._drop()
            raise
        self.done = True

    def abort(self) -> None:
        """Drops what was written: the staged file is closed and removed."""
        if self.done:
            return
        self.done = True
        self._drop()

    def _drop(self) -> None:
        try:
            with contextlib.suppress(Exception):  # a half-written file may fail to close
                self._discard_staged()
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.staged)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.commit()
        else:
            self.abort()


class AtomicFile(AtomicWriter):
    """An :class:`AtomicWriter` over a plain file object, :attr:`file` (``open``'s
    ``mode``, ``encoding`` and ``newline``)."""

    def __init__(self, path: str, mode: str = 'wb', encoding: Optional[str] = None,
                 newline: Optional[str] = None):
        super().__init__(path)
        self.file: IO = open(self.staged, mode, encoding=encoding, newline=newline)

    def _close_staged(self) -> None:
        self.file.close()  # flushes Python's buffer; commit() fsyncs

    def _discard_staged(self) -> None:
        with contextlib.suppress(Exception):
            self.file.close()


@contextlib.contextmanager
def atomic_open(path: str, mode: str = 'wb', encoding: Optional[str] = None,
                newline: Optional[str] = None) -> Iterator[IO]:
    """A file to write ``path`` through, streamed (an :class:`AtomicFile`): it becomes
    ``path`` when the block ends without an exception; on an exception the staged file is
    removed and ``path`` is left as it was."""
    with AtomicFile(path, mode, encoding=encoding, newline=newline) as w:
        yield w.file


def write_atomic(data, path: str, mode: str = 'wb', encoding: Optional[str] = None,
                 newline: Optional[str] = None) -> None:
    """Writes ``data`` to ``path`` so that a reader sees the old file or the new one, never
    a part, and a process killed midway leaves only ``path.part<pid>`` behind."""
    with atomic_open(path, mode, encoding=encoding, newline=newline) as f:
        f.write(data)
