"""The one plain-text table of every summary the library logs or prints."""
from typing import List, Optional, Sequence

__all__ = ['format_table']


def format_table(header: Sequence[str], rows: Sequence[Sequence], align: Optional[str] = None,
                 indent: str = '  ') -> List[str]:
    """Lines of a table, each column as wide as its widest cell.

    Args:
        header: column titles.
        rows: cells (formatted already; anything else goes through ``str``).
        align: ``'l'`` or ``'r'`` per column; default: the first left, the rest right.
        indent: put before every line.
    """
    cells = [[str(c) for c in header]] + [[str(c) for c in r] for r in rows]
    n = len(header)
    align = align or 'l' + 'r' * (n - 1)
    widths = [max(len(r[i]) for r in cells) for i in range(n)]
    return [indent + ' '.join(c.ljust(w) if a == 'l' else c.rjust(w)
                              for c, w, a in zip(r, widths, align)).rstrip()
            for r in cells]
