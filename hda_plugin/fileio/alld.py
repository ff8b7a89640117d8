"""Reader and writer for the HDA release's detection files, ``allD.txt``.

``HDA_ROOT/hda_detections/<Detector>/cameraNN/Detections/allD.txt`` holds one detector's
boxes on one camera, one CSV row per box::

    camera, frame, x, y, w, h, score

``frame`` is the 1-based vbb frame number (the benchmark's ``dbEval.m`` reads the rows of
frame ``f + 1`` for image ``f = 0 .. nFrame-1``), ``x, y, w, h`` pixels as in the toolbox
(``l, t, w, h``). ``GtAnnotationsAll`` is ground truth in the same form. MATLAB reads the
files with ``dlmread``, so they are plain numbers separated by commas, nothing else.
"""
import datetime
import json
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, Iterable, Optional, Union

import numpy as np

from .atomic import AtomicFile, write_atomic
from .folder_lock import FOLDER_LOCK_NAME
from .hda_layout import (
    HDA_LAYOUT,
    RELEASE_DETECTOR_FOLDERS,
    camera_dir_names,
    camera_id,
    camera_name,
)
from .text_format_error import TextFormatError, max_line_bytes, read_line_batches

__all__ = ['AllDFormatError', 'AllD', 'AllDWriter', 'alld_path', 'find_alld', 'read_alld',
           'write_alld', 'format_alld_row', 'check_detector_dir', 'mark_detector_dir',
           'DETECTOR_MARKER', 'read_detector_record']

#: Columns of an ``allD.txt`` row.
ALLD_COLUMNS = ('camera', 'frame', 'x', 'y', 'w', 'h', 'score')


class AllDFormatError(TextFormatError):
    """A malformed ``allD.txt`` row, with the file and line it was found at."""
    what = 'allD.txt row'


@dataclass
class AllD:
    """The rows of one ``allD.txt``, in file order.

    Attributes:
        path (str): the file read.
        camera (np.ndarray): ``(N,)`` camera column (int).
        frame (np.ndarray): ``(N,)`` 1-based frame column (int).
        boxes (np.ndarray): ``(N, 4)`` float64 ``x, y, w, h``.
        scores (np.ndarray): ``(N,)`` float64.
        counts (dict): rows by kind: ``rows`` (all), ``blank`` (empty lines, skipped),
            ``other_camera`` (camera column differs from the folder's camera; dbEval never
            reads that column, so they are kept).
    """
    path: str
    camera: np.ndarray
    frame: np.ndarray
    boxes: np.ndarray
    scores: np.ndarray
    counts: Dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.frame)


def alld_path(root: str, detector: str, cam: Union[int, str]) -> str:
    """``root/hda_detections/<detector>/cameraNN/Detections/allD.txt`` (the name writers
    use)."""
    return osp.join(root, HDA_LAYOUT['detections'], detector, camera_dir_names(cam)[0],
                    'Detections', 'allD.txt')


def find_alld(root: str, detector: str, cam: Union[int, str]) -> str:
    """The ``allD.txt`` of a detector and camera under a release root; a clear error naming
    the path and the camera when there is none."""
    det_dir = osp.join(root, HDA_LAYOUT['detections'], detector)
    tried = []
    for name in camera_dir_names(cam):
        p = osp.join(det_dir, name, 'Detections', 'allD.txt')
        if osp.isfile(p):
            return p
        tried.append(p)
    if not osp.isdir(det_dir):
        have = sorted(os.listdir(osp.dirname(det_dir))) if osp.isdir(osp.dirname(det_dir)) \
            else []
        raise FileNotFoundError(
            f'No detector folder {det_dir} ({camera_name(cam)}): the release\'s detectors '
            f'are {have or "none (no hda_detections/ folder)"}. Check HDA_ROOT and --detector.')
    have = sorted(os.listdir(det_dir))
    raise FileNotFoundError(
        f'{camera_name(cam)}: no detections file {tried[0]} (folders in {det_dir}: {have}). '
        'Write it with tools/test.py --hda-detections, or leave the camera out (--cameras).')


#: Longest ``allD.txt`` line read, in bytes (a row is under 200; ``HDA_SSD_MAX_LINE_BYTES``
#: raises it). Reading stops there: a binary or sparse file is one endless line.
MAX_ALLD_LINE = 1 << 16


def read_alld(path: str) -> AllD:
    """Reads an ``allD.txt``; a malformed row raises :class:`AllDFormatError` with the line.

    Rows must have the 7 columns ``camera, frame, x, y, w, h, score``, all numbers, finite,
    ``frame`` and ``camera`` whole numbers, ``w`` and ``h`` not negative. Empty lines are
    skipped and counted. Commas, spaces or tabs separate the numbers (``dlmread`` accepts
    each).

    The file is streamed, about 1 MiB of lines at a time: memory is the rows read plus one
    batch, whatever the file holds. A line longer than :data:`MAX_ALLD_LINE` bytes
    (``HDA_SSD_MAX_LINE_BYTES`` raises it) is an error naming the line.
    """
    limit = max_line_bytes(MAX_ALLD_LINE)
    parts, blank = [], 0
    with open(path, 'rb') as f:
        for first, offset, lines in read_line_batches(
                f, path, limit, AllDFormatError, 'a row is 7 numbers'):
            arr, n_blank = _read_batch(path, first, offset, lines)
            parts.append(arr)
            blank += n_blank
    arr = np.concatenate(parts) if parts else np.zeros((0, len(ALLD_COLUMNS)))
    return AllD(path=path, camera=arr[:, 0].astype(np.int64), frame=arr[:, 1].astype(np.int64),
                boxes=arr[:, 2:6].copy(), scores=arr[:, 6].copy(),
                counts=dict(rows=len(arr), blank=blank))


def _read_batch(path: str, first: int, offset: int, lines: list) -> tuple:
    """``(rows (R, 7) float64, blank lines)`` of consecutive lines (with their ends), the
    first of them line ``first`` at byte ``offset``."""
    fast = _read_fast(lines)
    if fast is not None:
        return fast
    rows, blank, line_no = [], 0, first
    for raw in lines:
        try:
            text = raw.decode('ascii')
        except UnicodeDecodeError as e:
            raise AllDFormatError(path, line_no, 'ASCII numbers', raw[e.start:e.start + 8],
                                  f'(byte offset {offset + e.start}). The file is not a text '
                                  'file of numbers: re-export it.') from None
        offset += len(raw)
        # str.splitlines as the reader always did: \v, \f, \x1c-\x1e end lines too
        for line in text.splitlines() or ['']:
            _parse_row(path, line_no, line.strip(), rows)
            blank += not line.strip()
            line_no += 1
    return np.array(rows, dtype=np.float64).reshape(-1, len(ALLD_COLUMNS)), blank


def _parse_row(path: str, line_no: int, s: str, rows: list) -> None:
    """Appends the 7 numbers of row ``s`` (stripped; nothing when empty) to ``rows``."""
    if not s:
        return
    parts = [p for p in s.replace(',', ' ').replace('\t', ' ').split(' ') if p]
    if len(parts) != len(ALLD_COLUMNS):
        raise AllDFormatError(
            path, line_no, f'{len(ALLD_COLUMNS)} comma-separated columns '
            f'({", ".join(ALLD_COLUMNS)})', s,
            f'found {len(parts)} columns. The benchmark reads 7: camera, 1-based frame, '
            'box x y w h in pixels, score.')
    try:
        vals = [float(p) for p in parts]
    except ValueError:
        bad = next(p for p in parts if not _is_float(p))
        raise AllDFormatError(path, line_no, 'numbers only', s,
                              f'{bad!r} is not a number.') from None
    if not all(np.isfinite(vals)):
        raise AllDFormatError(path, line_no, 'finite numbers', s,
                              'NaN/Inf in a box or score: fix the exporter.')
    if vals[0] != int(vals[0]) or vals[1] != int(vals[1]):
        raise AllDFormatError(path, line_no, 'whole camera and frame numbers', s,
                              'frames are 1-based vbb frame numbers (1, 2, ...).')
    if vals[4] < 0 or vals[5] < 0:
        raise AllDFormatError(path, line_no, 'w >= 0 and h >= 0', s,
                              'columns 3-6 are x, y, width, height (not x1 y1 x2 y2?).')
    rows.append(vals)


def _read_fast(lines: list) -> Optional[tuple]:
    """The common case, comma-separated and valid, through numpy's C parser:
    ``(rows, blank lines)``; None when anything is unusual, and the line-by-line reader
    gives the error with its line."""
    import io
    import warnings
    blank = sum(1 for line in lines if not line.strip())
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', UserWarning)  # "input contained no data"
            arr = np.loadtxt(io.BytesIO(b''.join(lines)), delimiter=',', dtype=np.float64,
                             ndmin=2, comments=None)
    except ValueError:
        return None
    if arr.size == 0:
        arr = arr.reshape(0, len(ALLD_COLUMNS))
    if arr.shape[1] != len(ALLD_COLUMNS) or not np.isfinite(arr).all() or \
            (arr[:, :2] != np.round(arr[:, :2])).any() or (arr[:, 4:6] < 0).any():
        return None
    return arr, blank


def _is_float(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def format_alld_row(camera: int, frame: int, box_xywh: Iterable[float], score: float) -> str:
    """One row. Numbers are written with Python's shortest round-trip repr, so reading the
    file gives back the same float64 values (``dlmread`` reads them as they are)."""
    x, y, w, h = (float(v) for v in box_xywh)
    return f'{int(camera)},{int(frame)},{x!r},{y!r},{w!r},{h!r},{float(score)!r}'


class AllDWriter(AtomicFile):
    """Writes one camera's ``allD.txt`` as frames come (rows are not held in memory).

    An :class:`~.atomic.AtomicFile`: the rows go to ``path.part<pid>`` and become
    ``path`` at :meth:`commit` (a reader never sees half a file); :meth:`abort` drops them.
    As a context manager the file is committed when the block ends, dropped when it raises.
    """

    def __init__(self, path: str, camera: Union[int, str]):
        self.camera, self.rows = camera_id(camera), 0  # a bad camera fails before any file
        super().__init__(path, 'w', newline='\n')

    def write(self, frame: Union[int, np.ndarray], boxes_xywh: np.ndarray,
              scores: np.ndarray) -> int:
        """Appends rows: one frame number for all boxes, or one per box. Returns the number
        of rows written."""
        boxes_xywh = np.asarray(boxes_xywh, dtype=np.float64).reshape(-1, 4)
        scores = np.asarray(scores, dtype=np.float64).reshape(-1)
        frames = np.broadcast_to(np.asarray(frame), (len(boxes_xywh), )) if np.ndim(frame) == 0 \
            else np.asarray(frame).reshape(-1)
        if not (len(frames) == len(boxes_xywh) == len(scores)):
            raise ValueError(f'{self.path}: {len(frames)} frames, {len(boxes_xywh)} boxes and '
                             f'{len(scores)} scores: one of each per row expected.')
        self.file.write(''.join(format_alld_row(self.camera, fr, b, s) + '\n' for fr, b, s in
                                zip(frames.tolist(), boxes_xywh.tolist(), scores.tolist())))
        self.rows += len(frames)
        return len(frames)


def write_alld(path: str, camera: Union[int, str], frames: np.ndarray, boxes_xywh: np.ndarray,
               scores: np.ndarray) -> int:
    """Writes one camera's rows (in the given order) to ``path``, creating its folders,
    atomically (a reader never sees half a file). Returns the number of rows."""
    with AllDWriter(path, camera) as w:
        return w.write(frames, boxes_xywh, scores)


#: Written into a detector folder beside its cameras: hda-ssd wrote this folder.
DETECTOR_MARKER = 'hda-ssd.json'


def check_detector_dir(out_dir: str, name: str, option: str = '--hda-detections') -> str:
    """``out_dir/hda_detections/<name>``, after checking that writing there destroys nothing
    hda-ssd did not write: the release's own folders (:data:`RELEASE_DETECTOR_FOLDERS`,
    refused by name even where they do not exist yet) and any folder with files but no
    ``hda-ssd.json``."""
    if not name or osp.basename(name) != name or name in ('.', '..'):
        raise ValueError(f'{option} {name!r}: a plain folder name is expected, '
                         'e.g. SSD512_run3.')
    det_dir = osp.join(out_dir, HDA_LAYOUT['detections'], name)
    reserved = {n.lower(): n for n in RELEASE_DETECTOR_FOLDERS}
    if name.lower() in reserved:
        raise ValueError(
            f'{option} {name}: {reserved[name.lower()]} is a folder of the HDA release '
            f'({", ".join(RELEASE_DETECTOR_FOLDERS)}: the ground truth the benchmark scores '
            f'against, the ACF detections); hda-ssd does not write detections under that '
            f'name, whether or not {out_dir} holds one. Choose another name, '
            'e.g. SSD512_run3.')
    marker = osp.join(det_dir, DETECTOR_MARKER)
    if osp.isdir(det_dir) and set(os.listdir(det_dir)) - {FOLDER_LOCK_NAME} and \
            not osp.isfile(marker):
        raise FileExistsError(
            f'{det_dir} exists and was not written by hda-ssd (no {DETECTOR_MARKER}): it may '
            f'be the release\'s own detections or ground truth. Choose another name for '
            f'{option}, or another output folder.')
    return det_dir


def read_detector_record(det_dir: str) -> dict:
    """The ``hda-ssd.json`` run record of a detector folder ({} when there is none or it
    does not parse)."""
    try:
        with open(osp.join(det_dir, DETECTOR_MARKER), encoding='utf-8') as f:
            d = json.load(f)
    except (OSError, ValueError):
        return {}
    return d if isinstance(d, dict) else {}


def mark_detector_dir(det_dir: str, name: str, writer: str, info: dict,
                      files: Optional[Dict[str, dict]] = None, state: str = 'complete'
                      ) -> None:
    """Writes ``hda-ssd.json``, the folder's run record: who wrote the folder, with what
    (``info``: config, checkpoint, inputs), the run's ``state`` (``running``,
    ``complete``, ``stopped``, ``failed: <cause>``), and per output file (paths relative
    to ``det_dir``) where it came from and whether its input completed: ``files`` entries
    such as ``dict(input='camera17.seq', status='completed', frames=6)`` or
    ``dict(..., status='stopped', stopped_at=5, reason='...')``. Entries of files this
    run did not write are kept from the record before (they are still there, from that
    earlier run)."""
    os.makedirs(det_dir, exist_ok=True)
    now = datetime.datetime.now().isoformat(timespec='seconds')
    kept = read_detector_record(det_dir).get('files')
    merged = dict(kept) if isinstance(kept, dict) else {}
    for rel, entry in (files or {}).items():
        merged[rel] = dict(entry, written=entry.get('written', now))
    write_atomic(json.dumps(dict(info, writer=writer, detector=name, written=now, state=state,
                                 columns='camera,frame,x,y,w,h,score', files=merged),
                            indent=1),
                 osp.join(det_dir, DETECTOR_MARKER), mode='w')
