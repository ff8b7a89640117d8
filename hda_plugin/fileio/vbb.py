"""Reader and writer for Piotr Dollar's vbb annotation text format, version 1.4.

HDA ships its ground truth as ``hda_annotations/camNN.txt`` written by the
labelling toolbox's ``vbbSaveTxt``::

    % vbb version=1.400000
    nFrame=<frames> n=<objects>
    log=[<floats> ]

    -----------------------------------
    lbl='person07' str=<first frame> end=<last frame> hide=<0|1>
    pos =[l t w h; l t w h; ... ]
    posv=[l t w h; ... ]
    occl=[0 1 ... ]
    lock=[0 1 ... ]

The object block repeats ``n`` times. Frames are 1-based (MATLAB). ``pos`` holds
one row per frame from ``str`` to ``end``.
"""
import math
import re
from dataclasses import dataclass, field
from typing import Iterable, Iterator, List, Optional

import numpy as np

from .text_format_error import TextFormatError, max_line_bytes, read_line_batches

__all__ = ['VbbObject', 'VbbAnnotation', 'VbbFormatError', 'load_vbb', 'parse_vbb', 'dump_vbb']


class VbbFormatError(TextFormatError):
    """Malformed vbb text, with the file and line it was found at."""
    what = 'vbb 1.4 annotation'


@dataclass
class VbbObject:
    """One annotated object track.

    Attributes:
        label (str): e.g. ``'person07'``, ``'crowd'``, ``'personUnk'``.
        start (int): first frame, 1-based inclusive.
        end (int): last frame, 1-based inclusive.
        hide (int): the toolbox's hide flag.
        pos (np.ndarray): ``(end - start + 1, 4)`` boxes ``l, t, w, h`` in pixels.
        posv (np.ndarray): visible part per frame, zeros when not set.
        occl (np.ndarray): per-frame occlusion flag.
        lock (np.ndarray): per-frame lock flag (labelling tool state).
        line_no (int): line of the ``lbl=`` header in the source file.
    """
    label: str
    start: int
    end: int
    hide: int
    pos: np.ndarray
    posv: np.ndarray
    occl: np.ndarray
    lock: np.ndarray
    line_no: int = 0

    def box_at(self, frame: int) -> np.ndarray:
        """``l, t, w, h`` at a 1-based frame within ``[start, end]``."""
        return self.pos[frame - self.start]


@dataclass
class VbbAnnotation:
    """A parsed vbb file: frame count, log and object tracks."""
    n_frames: int
    objects: List[VbbObject] = field(default_factory=list)
    log: Optional[np.ndarray] = None
    path: str = '<string>'

    def per_frame(self, frames: Optional[Iterable[int]] = None):
        """``(object, row)`` pairs per 0-based frame: a list over every frame, or with
        ``frames`` (0-based, e.g. every 30th) a dict over those only, built without
        touching the others."""
        if frames is None:
            out = [[] for _ in range(self.n_frames)]
            for obj in self.objects:
                for f in range(obj.start, obj.end + 1):
                    out[f - 1].append((obj, f - obj.start))
            return out
        wanted = np.asarray(sorted(set(int(f) for f in frames)), dtype=np.int64)
        out = {int(f): [] for f in wanted}
        for obj in self.objects:  # 0-based frames start-1 .. end-1 that are wanted
            lo, hi = np.searchsorted(wanted, [obj.start - 1, obj.end], 'left')
            for f in wanted[lo:hi].tolist():
                out[f].append((obj, f - (obj.start - 1)))
        return out


#: Largest ``nFrame`` accepted (the readers allocate per frame; HDA's longest camera has
#: about 10^4 frames, 10^7 is 23 days at 5 fps).
MAX_FRAMES = 10_000_000
#: Longest line :func:`load_vbb` reads, in bytes. A ``pos=[...]`` line holds one track's
#: boxes, about 45 bytes a frame (HDA's longest camera, 10^4 frames: 0.5 MB); 16 MiB is
#: 370,000 frames. Reading stops there: a binary or sparse file is one endless line.
MAX_VBB_LINE = 16 << 20

_HEADER_RE = re.compile(r'^%\s*vbb\s+version\s*=\s*([0-9.]+)\s*$')
_COUNT_RE = re.compile(r'^nFrame\s*=\s*(\d+)\s+n\s*=\s*(\d+)\s*$')
_LBL_RE = re.compile(r"^lbl\s*=\s*'([^']*)'\s+str\s*=\s*(-?\d+)\s+end\s*=\s*(-?\d+)"
                     r'\s+hide\s*=\s*(-?\d+)\s*$')
_ARRAY_RE = re.compile(r'^(\w+)\s*=\s*\[(.*)\]\s*$')


def _parse_matrix(path, line_no, key, body, cols):
    rows = [r.strip() for r in body.split(';')]
    rows = [r for r in rows if r]
    out = []
    for r in rows:
        vals = r.split()
        if cols and len(vals) != cols:
            raise VbbFormatError(path, line_no, f'{cols} numbers per row in {key}=[...]',
                                 r, 'Each row is "l t w h" separated by ";".')
        try:
            row = [float(v) for v in vals]
        except ValueError:
            raise VbbFormatError(path, line_no, f'numbers in {key}=[...]', r) from None
        if not all(math.isfinite(v) for v in row):
            raise VbbFormatError(path, line_no, f'finite numbers in {key}=[...]', r,
                                 'NaN or Inf is no box; fix or remove that row.')
        out.append(row)
    if cols:
        return np.asarray(out, dtype=np.float64).reshape(-1, cols)
    return np.asarray([v for row in out for v in row], dtype=np.float64)


def parse_vbb(text: str, path: str = '<string>') -> VbbAnnotation:
    """Parses vbb 1.4 text. Raises :class:`VbbFormatError` naming the line on any defect."""
    return _parse_lines(text.splitlines(), path)


def _parse_lines(lines: Iterable[str], path: str) -> VbbAnnotation:
    """Parses vbb 1.4 lines (without their ends) as they come: nothing but the annotation
    is kept, so a file can be streamed through."""
    seen = [0]  # lines consumed so far

    def significant():
        # separators and blanks only delimit
        for i, ln in enumerate(lines, 1):
            seen[0] = i
            s = ln.strip()
            if s and not set(s) <= {'-'}:
                yield i, s

    it = significant()

    def take(expected):
        try:
            return next(it)
        except StopIteration:
            raise VbbFormatError(path, seen[0] + 1, expected, '<end of file>',
                                 'The file looks truncated.') from None

    ln, s = take("'% vbb version=1.400000'")
    m = _HEADER_RE.match(s)
    if not m:
        raise VbbFormatError(path, ln, "'% vbb version=1.400000' as first line", s,
                             'Is this a vbb text file (vbbSaveTxt), not a .vbb MAT file?')
    if abs(float(m.group(1)) - 1.4) > 1e-6:
        raise VbbFormatError(path, ln, 'vbb version 1.4', s,
                             'Re-save it with vbbSaveTxt from toolbox 3.x.')
    ln, s = take("'nFrame=<frames> n=<objects>'")
    m = _COUNT_RE.match(s)
    if not m:
        raise VbbFormatError(path, ln, "'nFrame=<frames> n=<objects>'", s)
    n_frames, n_obj = int(m.group(1)), int(m.group(2))
    if n_frames > MAX_FRAMES:
        raise VbbFormatError(path, ln, f'nFrame <= {MAX_FRAMES:,}', s,
                             'The header is corrupt (the readers allocate per frame).')
    ln, s = take("'log=[...]'")
    m = _ARRAY_RE.match(s)
    if not m or m.group(1) != 'log':
        raise VbbFormatError(path, ln, "'log=[...]'", s)
    log = _parse_matrix(path, ln, 'log', m.group(2), 0)

    ann = VbbAnnotation(n_frames=n_frames, log=log, path=path)
    for k in range(n_obj):
        ln, s = take(f"object {k + 1} of {n_obj}: \"lbl='...' str=.. end=.. hide=..\"")
        m = _LBL_RE.match(s)
        if not m:
            raise VbbFormatError(path, ln, "\"lbl='<label>' str=<first> end=<last> hide=<0|1>\"",
                                 s, f'(object {k + 1} of n={n_obj} declared in the header)')
        label, start, end, hide = m.group(1), int(m.group(2)), int(m.group(3)), int(m.group(4))
        if not (1 <= start <= end <= n_frames):
            raise VbbFormatError(path, ln, f'1 <= str <= end <= nFrame={n_frames}',
                                 s, 'Frames in vbb files are 1-based.')
        length = end - start + 1
        arrays = {}
        for key, cols in (('pos', 4), ('posv', 4), ('occl', 0), ('lock', 0)):
            aln, a = take(f'{key}=[...] of object {label!r}')
            am = _ARRAY_RE.match(a)
            if not am or am.group(1) != key:
                raise VbbFormatError(path, aln, f'{key}=[...] of object {label!r}', a)
            arr = _parse_matrix(path, aln, key, am.group(2), cols)
            if len(arr) != length:
                raise VbbFormatError(
                    path, aln, f'{length} rows in {key} (str={start} .. end={end})',
                    f'{len(arr)} rows', 'The object block is incomplete or its str/end is wrong.')
            arrays[key] = arr
        ann.objects.append(VbbObject(label, start, end, hide, arrays['pos'], arrays['posv'],
                                     arrays['occl'].astype(np.int64),
                                     arrays['lock'].astype(np.int64), line_no=ln))
    rest = next(it, None)
    if rest is not None:
        raise VbbFormatError(path, rest[0], f'end of file after n={n_obj} objects', rest[1],
                             'The header object count n is smaller than the number of blocks.')
    return ann


def load_vbb(path: str) -> VbbAnnotation:
    """Reads and parses a vbb 1.4 text file (UTF-8; ASCII in practice).

    The file is streamed line by line: memory is the annotation plus one line, whatever the
    file holds. A line longer than :data:`MAX_VBB_LINE` bytes (``HDA_SSD_MAX_LINE_BYTES``
    raises it) is an error naming the line."""
    path = str(path)
    with open(path, 'rb') as f:
        return _parse_lines(_decoded_lines(f, path), path)


def _decoded_lines(f, path: str) -> Iterator[str]:
    limit = max_line_bytes(MAX_VBB_LINE)
    line_no = 1
    for _, offset, raw_lines in read_line_batches(
            f, path, limit, VbbFormatError, 'a pos=[...] line holds one object\'s boxes'):
        for raw in raw_lines:
            try:
                text = raw.decode('utf-8')
            except UnicodeDecodeError as e:
                raise VbbFormatError(path, line_no, 'UTF-8 text', raw[e.start:e.start + 8],
                                     f'(byte offset {offset + e.start}). A vbb text file is '
                                     'plain ASCII: the file is corrupt or not a vbb text '
                                     'file.') from None
            offset += len(raw)
            # str.splitlines as parse_vbb: \v, \f, \x1c-\x1e, \x85, \u2028 end lines too
            for line in text.splitlines() or ['']:
                yield line
                line_no += 1


def _fmt_rows(arr: np.ndarray) -> str:
    return '; '.join(' '.join(f'{v:f}' for v in row) for row in arr)


def dump_vbb(ann: VbbAnnotation) -> str:
    """Formats an annotation the way ``vbbSaveTxt`` does (``%f`` numbers, 1-based frames)."""
    out = ['% vbb version=1.400000', f'nFrame={ann.n_frames} n={len(ann.objects)}']
    log = ann.log if ann.log is not None else np.zeros(0)
    out.append('log=[' + ''.join(f'{v:f} ' for v in log) + ']')
    for o in ann.objects:
        out += ['', '-----------------------------------',
                f"lbl='{o.label}' str={o.start} end={o.end} hide={o.hide}",
                f'pos =[{_fmt_rows(o.pos)}]',
                f'posv=[{_fmt_rows(o.posv)}]',
                'occl=[' + ' '.join(str(int(v)) for v in o.occl) + ']',
                'lock=[' + ' '.join(str(int(v)) for v in o.lock) + ']']
    return '\n'.join(out) + '\n'
