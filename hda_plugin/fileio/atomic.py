"""The one atomic file write: a temporary name beside the target, flushed to disk, renamed."""
import contextlib
import os
import os.path as osp
from typing import Iterator, Optional

__all__ = ['write_atomic', 'atomic_open', 'PARTIAL_SUFFIX']

#: ``<file>.part<pid>``: the temporary name while ``<file>`` is written by process ``pid``.
PARTIAL_SUFFIX = '.part'


@contextlib.contextmanager
def atomic_open(path: str, mode: str = 'wb', encoding: Optional[str] = None,
                newline: Optional[str] = None) -> Iterator:
    """A file to write ``path`` through, streamed: the data goes to ``path.part<pid>``,
    which becomes ``path`` (flushed to disk, renamed) when the block ends without an
    exception; on an exception the part is removed and ``path`` is left as it was."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tmp = f'{path}{PARTIAL_SUFFIX}{os.getpid()}'
    try:
        with open(tmp, mode, encoding=encoding, newline=newline) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


def write_atomic(data, path: str, mode: str = 'wb', encoding: Optional[str] = None,
                 newline: Optional[str] = None) -> None:
    """Writes ``data`` to ``path`` so that a reader sees the old file or the new one, never
    a part, and a process killed midway leaves only ``path.part<pid>`` behind."""
    with atomic_open(path, mode, encoding=encoding, newline=newline) as f:
        f.write(data)
