"""The error of the line-based text readers (vbb, allD.txt): file, line, what was expected,
what was found, and the fix; and the bounded line reading they share."""
import os
from typing import BinaryIO, Iterator, List, Tuple

__all__ = ['TextFormatError', 'quote_text', 'read_line_batches', 'max_line_bytes',
           'MAX_QUOTE', 'MAX_LINE_ENV']

#: Characters of a bad line an error message quotes (an 8 MB line of NULs once made a
#: 33-million-character message).
MAX_QUOTE = 200

#: Environment variable that raises (or lowers) the readers' line-length limit, in bytes.
MAX_LINE_ENV = 'HDA_SSD_MAX_LINE_BYTES'

_CHUNK = 1 << 20


def quote_text(got) -> str:
    """``repr(got)``, cut to about :data:`MAX_QUOTE` characters with a marker saying how long
    ``got`` was."""
    if not isinstance(got, (str, bytes, bytearray)):
        got = str(got)
    quoted = repr(got[:MAX_QUOTE])
    if len(got) <= MAX_QUOTE and len(quoted) <= MAX_QUOTE + 3:
        return quoted
    unit = 'bytes' if isinstance(got, (bytes, bytearray)) else 'characters'
    return f'{quoted[:MAX_QUOTE]}... [cut: {len(got):,} {unit} in all]'


class TextFormatError(ValueError):
    """Malformed text, with the file and line it was found at. Subclasses name the format
    in ``what``. ``got`` is quoted up to :data:`MAX_QUOTE` characters."""
    what = 'text'

    def __init__(self, path: str, line_no: int, expected: str, got, fix: str = ''):
        msg = f'{path}:{line_no}: malformed {self.what}: expected {expected}, got ' \
              f'{quote_text(got)}.'
        if fix:
            msg += f' {fix}'
        super().__init__(msg)
        self.path, self.line_no = path, line_no


def max_line_bytes(default: int) -> int:
    """The line-length limit: :data:`MAX_LINE_ENV` when set, else ``default``."""
    value = os.environ.get(MAX_LINE_ENV, '').strip()
    if not value:
        return default
    try:
        limit = int(value)
    except ValueError:
        limit = 0
    if limit <= 0:
        raise ValueError(f'{MAX_LINE_ENV}={value!r}: a positive number of bytes is expected, '
                         f'e.g. {MAX_LINE_ENV}={default * 4}.')
    return limit


def read_line_batches(f: BinaryIO, path: str, max_line: int, error_cls,
                      what_line: str) -> Iterator[Tuple[int, int, List[bytes]]]:
    """The lines of a binary file, a batch (about 1 MiB) at a time, never holding more than a
    batch and one line: ``(number of the first line, its byte offset, lines)``, each line
    with its end (``\\n``, ``\\r\\n`` or ``\\r``).

    A line longer than ``max_line`` bytes raises ``error_cls`` naming ``path``, the line,
    the limit and how to raise it, before more of it is read (a sparse or binary file is
    one endless line)."""
    line_no, offset = 1, 0
    pending: List[bytes] = []  # pieces of a line not yet ended
    pending_len = 0
    while True:
        chunk = f.read(_CHUNK)
        if not chunk:
            if pending:
                yield line_no, offset, [b''.join(pending)]
            return
        if b'\n' not in chunk and b'\r' not in chunk:
            pending.append(chunk)
            pending_len += len(chunk)
            if pending_len > max_line:
                _too_long(pending[0], path, line_no, max_line,
                          error_cls, what_line)
            continue
        lines = (b''.join(pending) + chunk if pending else chunk).splitlines(keepends=True)
        pending, pending_len = [], 0
        if not lines[-1].endswith(b'\n'):  # not ended yet (a lone '\r' may meet its '\n')
            pending, pending_len = [lines[-1]], len(lines[-1])
            lines.pop()
        for i, line in enumerate(lines):
            if len(line) > max_line + 2:  # the limit counts the text, not its line end
                _too_long(line, path, line_no + i, max_line, error_cls,
                          what_line)
        if pending_len > max_line:
            _too_long(pending[0], path, line_no + len(lines), max_line,
                      error_cls, what_line)
        if lines:
            yield line_no, offset, lines
            line_no += len(lines)
            offset += sum(len(line) for line in lines)


def _too_long(start: bytes, path, line_no, max_line, error_cls, what_line):
    raise error_cls(
        path, line_no, f'lines of at most {max_line:,} bytes ({what_line})', start[:32],
        f'Line {line_no}, which begins with the bytes shown, runs past {max_line:,} bytes '
        '(the file is binary, sparse or corrupt); reading stopped there. If the file is '
        f'genuine, raise the limit: {MAX_LINE_ENV}={max_line * 16}.')
