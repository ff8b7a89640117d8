"""The error of the line-based text readers (vbb, allD.txt): file, line, what was expected,
what was found, and the fix."""

__all__ = ['TextFormatError']


class TextFormatError(ValueError):
    """Malformed text, with the file and line it was found at. Subclasses name the format
    in ``what``."""
    what = 'text'

    def __init__(self, path: str, line_no: int, expected: str, got: str, fix: str = ''):
        msg = f'{path}:{line_no}: malformed {self.what}: expected {expected}, got {got!r}.'
        if fix:
            msg += f' {fix}'
        super().__init__(msg)
        self.path, self.line_no = path, line_no
