"""Reader of Piotr Dollár's binary vbb annotations (``.vbb``: a MATLAB 5 MAT-file), as the
Caltech Pedestrian release ships them (``annotations/setXX/VYYY.vbb``).

``vbb.m``'s ``vbbSave`` runs ``save(fName, 'A', 'vers', '-v6')``: one struct ``A`` with
the fields ``nFrame, objLists, maxObj, objInit, objLbl, objStr, objEnd, objHide, altered,
log, logLen``. ``objLists`` is a 1 x nFrame cell; cell ``f`` (1-based frame) is ``[]`` or a
struct array with one element per object on that frame: ``id`` (1-based index into
``objLbl``/``objStr``/``objEnd``/``objHide``), ``pos`` and ``posv`` (``[l t w h]``; ``posv``
``[0 0 0 0]`` when not set), ``occl`` and ``lock`` (0/1). Object ``id`` lives on frames
``objStr(id)..objEnd(id)`` (1-based, inclusive) and has exactly one row on each of them.

:func:`load_vbb_mat` turns the per-frame lists into the per-object tracks of
:class:`~.vbb.VbbAnnotation` / :class:`~.vbb.VbbObject`, the same dataclasses the text
reader (:func:`~.vbb.load_vbb`) returns, so one annotation reads the same from either
file. Slots that ``vbb.m`` keeps for deleted objects (``objInit(id) == 0``, no row on any
frame) are left out. :func:`load_any_vbb` picks the reader from the file's first bytes.

Safety: ``scipy.io.loadmat`` parses the MAT-file's typed elements itself and never calls
``pickle``; MATLAB objects, function handles and opaque elements come back as inert
arrays (``MatlabObject``, ``MatlabFunction``, ``MatlabOpaque``). The reader then accepts
only the numbers and strings it expects (anything else is an error naming the field), so
nothing in a ``.vbb`` reaches code. Options: ``struct_as_record=True`` (structs as numpy
records, no ``mat_struct`` objects), ``squeeze_me=False`` (every field keeps its 2-D
MATLAB shape, so a 1-object frame reads like an n-object one), ``mat_dtype=False``
(numbers in their stored type, converted here), ``verify_compressed_data_integrity=True``.
"""
import os.path as osp
from typing import Dict, List

import numpy as np

from .vbb import MAX_FRAMES, VbbAnnotation, VbbObject, load_vbb

__all__ = ['VbbMatError', 'load_vbb_mat', 'load_any_vbb', 'vbb_kind', 'VBB_FIELDS',
           'VBB_FRAME_FIELDS']

#: ``vbb.m``'s struct ``A``, fields in its order.
VBB_FIELDS = ('nFrame', 'objLists', 'maxObj', 'objInit', 'objLbl', 'objStr', 'objEnd',
              'objHide', 'altered', 'log', 'logLen')
#: the fields this reader needs (the others are labelling-tool state).
_REQUIRED = ('nFrame', 'objLists', 'objLbl', 'objStr', 'objEnd')
#: the fields of each element of ``objLists{f}``.
VBB_FRAME_FIELDS = ('id', 'pos', 'posv', 'occl', 'lock')

_TEXT_MAGIC = b'% vbb version'
_MAT5_MAGIC = b'MATLAB 5.0 MAT-file'
_MAT73_MAGIC = b'MATLAB 7.3 MAT-file'
_HDF5_MAGIC = b'\x89HDF\r\n\x1a\n'


class VbbMatError(ValueError):
    """A binary vbb file that cannot be read as ``vbb.m`` writes it: names the file, the
    field or frame, what was expected and the likely fix."""


def vbb_kind(path: str) -> str:
    """``'text'`` (``vbbSaveTxt``), ``'mat5'`` (``vbbSave``, MATLAB 5 / -v6 / -v7),
    ``'mat73'`` (MATLAB -v7.3, HDF5) or ``'unknown'``, from the first bytes of ``path``."""
    with open(path, 'rb') as f:
        head = f.read(128)
        f.seek(512)
        hdf = f.read(8)
    if head.lstrip().startswith(_TEXT_MAGIC):
        return 'text'
    if head.startswith(_MAT73_MAGIC) or hdf == _HDF5_MAGIC or head.startswith(_HDF5_MAGIC):
        return 'mat73'
    if head.startswith(_MAT5_MAGIC):
        return 'mat5'
    return 'unknown'


def load_any_vbb(path: str) -> VbbAnnotation:
    """A vbb annotation from ``path``, text (:func:`~.vbb.load_vbb`) or binary
    (:func:`load_vbb_mat`), chosen by its content, not its name."""
    path = str(path)
    kind = vbb_kind(path)
    if kind == 'text':
        return load_vbb(path)
    if kind in ('mat5', 'mat73'):
        return load_vbb_mat(path)
    with open(path, 'rb') as f:
        head = f.read(24)
    raise VbbMatError(
        f'{path}: neither a vbb text file (first line "% vbb version=1.400000") nor a '
        f'MATLAB 5 MAT-file (header "MATLAB 5.0 MAT-file"); it starts with {head!r}. '
        'Re-copy it from the release (annotations/setXX/VYYY.vbb).')


def _err(path, what, fix=''):
    return VbbMatError(f'{path}: {what}' + (f' {fix}' if fix else ''))


def _loadmat(path: str) -> dict:
    import scipy.io
    try:
        return scipy.io.loadmat(path, squeeze_me=False, struct_as_record=True,
                                mat_dtype=False, chars_as_strings=True,
                                verify_compressed_data_integrity=True)
    except NotImplementedError as e:  # scipy's answer to -v7.3 files
        raise _err(path, f'a MATLAB -v7.3 (HDF5) file ({e}).',
                   "vbb.m writes -v6; re-save it in MATLAB with "
                   "A = vbb('vbbLoad', f); save(f, 'A', '-v7') (or vbb('vbbSave', A, f)).") \
            from None
    except MemoryError:
        raise _err(path, 'a MAT-file element declares more memory than is available.',
                   'The file is corrupt; re-copy it from the release.') from None
    except Exception as e:  # scipy raises ValueError, TypeError, OSError, zlib.error, ...
        raise _err(path, f'cannot read the MAT-file ({type(e).__name__}: {e}).',
                   'The file is cut short or corrupt; re-copy it from the release '
                   '(annotations/setXX/VYYY.vbb).') from None


def _numbers(path, where, value, cols: int = 0) -> np.ndarray:
    """``value`` as float64 (``(-1, cols)`` or flat); an error for anything not numeric."""
    arr = np.asarray(value)
    if arr.dtype.kind not in 'biuf' or arr.dtype == object:
        raise _err(path, f'{where}: expected numbers, got a {type(value).__name__} of dtype '
                   f'{arr.dtype}.', 'The file is not a vbb annotation as vbb.m writes it.')
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise _err(path, f'{where}: NaN or Inf where numbers are expected.')
    if cols:
        if arr.size % cols:
            raise _err(path, f'{where}: {arr.size} numbers, expected rows of {cols} '
                       '([l t w h]).')
        return arr.reshape(-1, cols)
    return arr.reshape(-1)


def _label(path, k, value) -> str:
    arr = np.asarray(value)
    if arr.dtype.kind == 'U' and arr.size <= 1:
        return str(arr.reshape(-1)[0]) if arr.size else ''
    raise _err(path, f'objLbl{{{k}}}: expected a string (the object\'s label), got a '
               f'{type(value).__name__} of dtype {arr.dtype}.',
               'The file is not a vbb annotation as vbb.m writes it.')


def _int(path, where, value) -> int:
    arr = _numbers(path, where, value)
    if arr.size != 1 or arr[0] != int(arr[0]):
        raise _err(path, f'{where}: expected one integer, got {arr.tolist()[:4]}.')
    return int(arr[0])


def load_vbb_mat(path: str) -> VbbAnnotation:
    """Reads a binary vbb file (``vbbSave``'s MATLAB 5 / -v6 / -v7 MAT-file).

    Returns:
        VbbAnnotation: ``n_frames`` = ``nFrame``; one :class:`~.vbb.VbbObject` per object
        present on at least one frame, in id order, with 1-based ``start``/``end``
        (``objStr``/``objEnd``), ``hide`` (``objHide``), per-frame ``pos``, ``posv``,
        ``occl``, ``lock``; ``line_no`` 0 (a MAT-file has no lines); ``log`` the ``log``
        field. ``path`` is the file.

    Raises:
        VbbMatError: a cut or corrupt file, a -v7.3 (HDF5) file, no variable ``A``,
            missing fields, an id out of range (naming the frame), a frame without the row
            of an object alive on it, or a row outside the object's frames.
    """
    path = str(path)
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: no such vbb file.')
    if vbb_kind(path) == 'mat73':
        raise _err(path, 'a MATLAB -v7.3 (HDF5) file: scipy.io.loadmat reads MATLAB 5 '
                   'files (-v6, -v7) only.',
                   "vbb.m writes -v6; re-save it in MATLAB with "
                   "A = vbb('vbbLoad', f); save(f, 'A', 'vers', '-v6').")
    mat = _loadmat(path)
    if 'A' not in mat:
        names = sorted(k for k in mat if not k.startswith('__'))
        raise _err(path, f'no variable "A" (found {names}).',
                   'A vbb file holds the annotation struct A (vbb.m vbbSave).')
    a = np.asarray(mat['A'])
    names = a.dtype.names or ()
    if not names or a.size != 1:
        raise _err(path, f'variable "A" is not a 1x1 struct (shape {a.shape}, dtype '
                   f'{a.dtype}).', 'A vbb file holds the annotation struct A (vbb.m).')
    missing = [f for f in _REQUIRED if f not in names]
    if missing:
        raise _err(path, f'struct A lacks the fields {missing} (it has {list(names)}).',
                   f'vbb.m\'s layout is {list(VBB_FIELDS)}; the file was written by '
                   'another tool or is damaged.')
    a = a.reshape(-1)[0]
    n_frames = _int(path, 'A.nFrame', a['nFrame'])
    if not 0 <= n_frames <= MAX_FRAMES:
        raise _err(path, f'A.nFrame = {n_frames}: expected 0..{MAX_FRAMES:,}.',
                   'The file is corrupt.')
    lists = np.asarray(a['objLists'])
    if lists.dtype != object or lists.size != n_frames:
        raise _err(path, f'A.objLists: expected a cell of nFrame = {n_frames} frames, got '
                   f'{lists.size} elements of dtype {lists.dtype}.',
                   'nFrame and objLists disagree: the file is damaged.')
    labels = np.asarray(a['objLbl']).reshape(-1)
    n_obj = labels.size
    str_ = _numbers(path, 'A.objStr', a['objStr'])
    end_ = _numbers(path, 'A.objEnd', a['objEnd'])
    hide = _numbers(path, 'A.objHide', a['objHide']) if 'objHide' in names else \
        np.zeros(n_obj)
    init = _numbers(path, 'A.objInit', a['objInit']) if 'objInit' in names else None
    for name, arr in (('objStr', str_), ('objEnd', end_), ('objHide', hide)):
        if arr.size != n_obj:
            raise _err(path, f'A.{name} has {arr.size} entries, A.objLbl {n_obj}: one per '
                       'object expected.', 'The file is damaged.')
    log = _numbers(path, 'A.log', a['log']) if 'log' in names else None

    rows: Dict[int, Dict[int, tuple]] = {}  # id -> 1-based frame -> row
    for f0, cell in enumerate(lists.reshape(-1)):
        frame = f0 + 1
        cell = np.asarray(cell)
        if cell.size == 0:
            continue
        fields = cell.dtype.names or ()
        absent = [k for k in VBB_FRAME_FIELDS if k not in fields]
        if absent:
            raise _err(path, f'A.objLists{{{frame}}} (frame {frame}, 1-based): its struct '
                       f'lacks the fields {absent} (has {list(fields)}).',
                       f'Each frame lists structs with {list(VBB_FRAME_FIELDS)}.')
        for el in cell.reshape(-1):
            where = f'A.objLists{{{frame}}} (frame {frame}, 1-based)'
            oid = _int(path, f'{where}.id', el['id'])
            if not 1 <= oid <= n_obj:
                raise _err(path, f'{where}: object id {oid} is out of range 1..{n_obj} '
                           '(the number of objLbl entries).', 'The file is damaged.')
            pos = _numbers(path, f'{where}.pos of object {oid}', el['pos'], 4)
            posv = _numbers(path, f'{where}.posv of object {oid}', el['posv'], 4)
            if len(pos) != 1 or len(posv) > 1:
                raise _err(path, f'{where}: object {oid} has {len(pos)} pos and {len(posv)} '
                           'posv rows, expected one each.')
            posv = posv[0] if len(posv) else np.zeros(4)
            occl = _int(path, f'{where}.occl of object {oid}', el['occl'])
            lock = _int(path, f'{where}.lock of object {oid}', el['lock'])
            track = rows.setdefault(oid, {})
            if frame in track:
                raise _err(path, f'{where}: object {oid} is listed twice on this frame.',
                           'The file is damaged.')
            track[frame] = (pos[0], posv, occl, lock)

    objects: List[VbbObject] = []
    for oid in range(1, n_obj + 1):
        track = rows.get(oid)
        start, end = int(str_[oid - 1]), int(end_[oid - 1])
        if not track:
            if init is not None and init.size == n_obj and not init[oid - 1]:
                continue  # a deleted slot (objInit 0): vbb.m's cleanup drops these
            if start <= end and 1 <= start:
                raise _err(path, f'object {oid} ({_label(path, oid, labels[oid - 1])!r}) '
                           f'lives on frames {start}..{end} (objStr/objEnd, 1-based) but '
                           f'has no row on frame {start}.', 'The file is damaged.')
            continue
        label = _label(path, oid, labels[oid - 1])
        if not 1 <= start <= end <= n_frames:
            raise _err(path, f'object {oid} ({label!r}): objStr={start}, objEnd={end}; '
                       f'expected 1 <= objStr <= objEnd <= nFrame={n_frames}.',
                       'The file is damaged.')
        outside = sorted(f for f in track if not start <= f <= end)
        if outside:
            raise _err(path, f'object {oid} ({label!r}) has a row on frame {outside[0]} '
                       f'(1-based), outside its frames {start}..{end} (objStr/objEnd).',
                       'The file is damaged.')
        gaps = [f for f in range(start, end + 1) if f not in track]
        if gaps:
            raise _err(path, f'object {oid} ({label!r}) has no row on frame {gaps[0]} '
                       f'(1-based) of its frames {start}..{end} (objStr/objEnd).',
                       'The file is damaged.')
        seq = [track[f] for f in range(start, end + 1)]
        objects.append(VbbObject(
            label=label, start=start, end=end, hide=int(hide[oid - 1]),
            pos=np.stack([r[0] for r in seq]), posv=np.stack([r[1] for r in seq]),
            occl=np.array([r[2] for r in seq], dtype=np.int64),
            lock=np.array([r[3] for r in seq], dtype=np.int64), line_no=0))
    return VbbAnnotation(n_frames=n_frames, objects=objects, log=log, path=path)

