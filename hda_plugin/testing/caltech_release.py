"""A tiny Caltech Pedestrian release in the real layout and formats, for tests and
benchmarks: ``setXX/VYYY.seq`` (Norpix, JPEG frames) and ``annotations/setXX/VYYY.vbb``
written by :func:`dump_vbb_mat` in ``vbb.m``'s binary layout (or ``VYYY.txt`` in the text
layout), so the data set reads them with the same readers as the real release.

Every video gets the same kinds of tracks (:func:`default_tracks`): persons walking across
(one with its visible box ``posv`` set on some frames and ``occl`` 1 there, one leaving the
frame, one near the border where dbEval's ``bnds`` ignore it), a ``people`` group, a
``person?`` and a ``person-fa``. Frame ``i`` of a video is filled with a grey level that
depends on ``i``, so a test can tell which frame it got.
"""
import io
import os
import os.path as osp
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from ..fileio.atomic import write_atomic
from ..fileio.caltech_layout import annotation_candidates, seq_path
from ..fileio.seq import write_seq
from ..fileio.vbb import VbbAnnotation, VbbObject, dump_vbb
from ..fileio.vbb_mat import VBB_FRAME_FIELDS

__all__ = ['dump_vbb_mat', 'vbb_mat_dict', 'default_tracks', 'frame_pixel',
           'make_caltech_release']


def _row(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float64).reshape(1, -1)


def vbb_mat_dict(ann: VbbAnnotation) -> dict:
    """The struct ``A`` of ``vbb.m`` for ``ann``, as ``scipy.io.savemat`` writes it: fields
    in vbb.m's order, ``objLists`` a 1 x nFrame cell of 1 x K struct arrays (``[]`` for
    empty frames), ids 1-based in the order of ``ann.objects``."""
    n = ann.n_frames
    per_frame: List[list] = [[] for _ in range(n)]
    for k, obj in enumerate(ann.objects, 1):
        for f in range(obj.start, obj.end + 1):
            r = f - obj.start
            per_frame[f - 1].append((k, obj.pos[r], obj.posv[r], obj.occl[r], obj.lock[r]))
    lists = np.empty((1, n), dtype=object)
    dtype = [(name, object) for name in VBB_FRAME_FIELDS]
    for f, items in enumerate(per_frame):
        if not items:
            lists[0, f] = np.zeros((0, 0))
            continue
        s = np.empty((1, len(items)), dtype=dtype)
        for j, (k, pos, posv, occl, lock) in enumerate(items):
            s[0, j] = (_row([k]), _row(pos), _row(posv), _row([occl]), _row([lock]))
        lists[0, f] = s
    m = len(ann.objects)
    labels = np.empty((1, m), dtype=object)
    for k, obj in enumerate(ann.objects):
        labels[0, k] = obj.label
    log = ann.log if ann.log is not None else np.zeros(0)
    return {
        'nFrame': _row([n]),
        'objLists': lists,
        'maxObj': _row([m]),
        'objInit': np.ones((1, m), dtype=bool),
        'objLbl': labels,
        'objStr': _row([o.start for o in ann.objects]) if m else np.zeros((1, 0)),
        'objEnd': _row([o.end for o in ann.objects]) if m else np.zeros((1, 0)),
        'objHide': _row([o.hide for o in ann.objects]) if m else np.zeros((1, 0)),
        'altered': np.zeros((1, 1), dtype=bool),
        'log': _row(log) if len(log) else np.zeros((1, 0)),
        'logLen': _row([len(log)]),
    }


def dump_vbb_mat(ann: VbbAnnotation, path: str, extra: Optional[dict] = None) -> None:
    """Writes ``ann`` as ``vbbSave`` does (``save(f, 'A', 'vers', '-v6')``: a MATLAB 5
    MAT-file holding ``A`` and ``vers = 1.4``), atomically. ``extra`` adds variables or
    replaces fields of ``A`` (tests of damaged files)."""
    import scipy.io
    a = vbb_mat_dict(ann)
    top = {'vers': _row([1.4])}
    for k, v in (extra or {}).items():
        if k.startswith('A.'):
            if v is None:
                a.pop(k[2:], None)
            else:
                a[k[2:]] = v
        else:
            top[k] = v
    buf = io.BytesIO()
    scipy.io.savemat(buf, dict({'A': a}, **top), format='5', oned_as='row')
    write_atomic(buf.getvalue(), path)


def frame_pixel(frame: int) -> int:
    """The grey level of 0-based frame ``frame`` in :func:`make_caltech_release`'s videos."""
    return 20 + (frame * 7) % 200


def _track(label, start, end, box_at, posv_at=None, occl_at=None, hide=0) -> VbbObject:
    frames = range(start, end + 1)
    pos = np.array([box_at(f) for f in frames], dtype=np.float64).reshape(-1, 4)
    posv = np.array([posv_at(f) if posv_at else (0, 0, 0, 0) for f in frames],
                    dtype=np.float64).reshape(-1, 4)
    occl = np.array([occl_at(f) if occl_at else 0 for f in frames], dtype=np.int64)
    return VbbObject(label, start, end, hide, pos, posv, occl, np.zeros(len(pos), np.int64))


def default_tracks(n_frames: int, seed: int = 0, width: int = 640) -> List[VbbObject]:
    """The tracks of one video (frames 1-based, as vbb): see the module docstring."""
    rng = np.random.default_rng(seed)
    n = n_frames
    x0 = float(rng.integers(40, 200))
    tracks = [
        # walks right across the frame; its lower third hidden on every 4th frame
        _track('person', 1, n, lambda f: (x0 + 3 * f, 100.5, 41.0, 100.0),
               posv_at=lambda f: (x0 + 3 * f, 100.5, 41.0, 66.0) if f % 4 == 0 else (0, 0, 0, 0),
               occl_at=lambda f: int(f % 4 == 0)),
        # a small person from frame 10 to the end, mostly hidden on even frames
        _track('person', min(10, n), n, lambda f: (300.0, 200.0 + 0.5 * f, 20.0, 48.0),
               posv_at=lambda f: (300.0, 200.0 + 0.5 * f, 20.0, 12.0) if f % 2 == 0
               else (0, 0, 0, 0), occl_at=lambda f: int(f % 2 == 0)),
        # leaves the frame on the right: clipped, then outside
        _track('person', 1, n, lambda f: (width - 45 + f, 150.0, 30.0, 70.0)),
        # near the top-left border: inside the image, outside dbEval's bnds [5 5 635 475]
        _track('person', 1, min(n, 60), lambda f: (2.0, 3.0, 25.0, 60.0)),
        _track('people', 1, n, lambda f: (400.0 - f, 250.0, 80.0, 90.0)),
        _track('person?', max(1, n // 3), n, lambda f: (500.0, 300.0, 15.0, 30.0)),
        _track('person-fa', 1, max(1, n // 2), lambda f: (100.0, 350.0, 20.0, 45.0)),
    ]
    return tracks


def make_caltech_release(root: str, videos: Dict[Tuple[int, int], int],
                         tracks: Optional[Dict[Tuple[int, int], Sequence[VbbObject]]] = None,
                         size: Tuple[int, int] = (640, 480), vbb_format: str = 'mat',
                         quality: int = 80, seq_frames: Optional[Dict] = None,
                         annotate: Optional[Iterable[Tuple[int, int]]] = None
                         ) -> Dict[Tuple[int, int], VbbAnnotation]:
    """Writes ``setXX/VYYY.seq`` and its annotation for each ``(set, video) -> frames``.

    Args:
        root: the release root (the future ``CALTECH_ROOT``).
        videos: ``{(set, video): number of frames}``.
        tracks: per video its objects; :func:`default_tracks` where not given.
        size: ``(width, height)`` of the frames. Defaults to Caltech's 640x480.
        vbb_format: ``'mat'`` (``VYYY.vbb``, binary) or ``'text'`` (``VYYY.txt``).
        quality: JPEG quality.
        seq_frames: ``{(set, video): frames}`` written to the ``.seq`` where it must
            disagree with the annotation (tests).
        annotate: the videos given an annotation file; all when None.

    Returns:
        ``{(set, video): VbbAnnotation}`` as written.
    """
    w, h = size
    out = {}
    for (s, v), n in videos.items():
        objs = list(tracks[(s, v)]) if tracks and (s, v) in tracks else \
            default_tracks(n, seed=s * 100 + v, width=w)
        ann = VbbAnnotation(n_frames=n, objects=objs, log=np.zeros(0))
        n_seq = (seq_frames or {}).get((s, v), n)
        frames = (np.full((h, w, 3), frame_pixel(i), np.uint8) for i in range(n_seq))
        path = seq_path(root, s, v)
        os.makedirs(osp.dirname(path), exist_ok=True)
        write_seq(path, frames, codec='jpg', quality=quality, fps=30.0)
        if annotate is None or (s, v) in set(annotate):
            vbb_path, txt_path = annotation_candidates(root, s, v)
            if vbb_format == 'mat':
                dump_vbb_mat(ann, vbb_path)
            elif vbb_format == 'text':
                write_atomic(dump_vbb(ann), txt_path, mode='w')
            else:
                raise ValueError(f'vbb_format={vbb_format!r}: expected "mat" or "text".')
        out[(s, v)] = ann
    return out
