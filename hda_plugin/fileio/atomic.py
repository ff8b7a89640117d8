"""The one atomic file write: a temporary name beside the target, flushed to disk, renamed."""
import os
import os.path as osp
from typing import Optional

__all__ = ['write_atomic', 'PARTIAL_SUFFIX']

#: ``<file>.part<pid>``: the temporary name while ``<file>`` is written by process ``pid``.
PARTIAL_SUFFIX = '.part'


def write_atomic(data, path: str, mode: str = 'wb', encoding: Optional[str] = None,
                 newline: Optional[str] = None) -> None:
    """Writes ``data`` to ``path`` so that a reader sees the old file or the new one, never
    a part, and a process killed midway leaves only ``path.part<pid>`` behind."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tmp = f'{path}{PARTIAL_SUFFIX}{os.getpid()}'
    try:
        with open(tmp, mode, encoding=encoding, newline=newline) as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
