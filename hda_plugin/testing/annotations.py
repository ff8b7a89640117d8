"""What the synthetic renderer knows about each drawn person, turned into vbb annotations:
full box, visible box (``posv``) and occlusion flag from the person-id map, crowd boxes,
and the :class:`~hda_plugin.fileio.vbb.VbbAnnotation` of a camera."""
from typing import Dict, List, Optional, Tuple

import numpy as np

from ..fileio.vbb import VbbAnnotation, VbbObject

__all__ = ['OCCLUDED_BELOW', 'visibility_states', 'union_box', 'to_vbb']

#: A person with less than this share of its pixels on top is labelled occluded.
OCCLUDED_BELOW = 0.7
CROWD = -1  # the key of the crowd's states


def _visible(idmap, vis_counts, pid, box) -> Tuple[tuple, int]:
    """``(posv, occl)`` of person ``pid`` drawn with full box ``box`` (x, y, w, h)."""
    h, w = idmap.shape
    x, t, bw, bh = box
    x1, y1 = int(max(0, x)), int(max(0, t))
    x2, y2 = int(min(w, x + bw + 1)), int(min(h, t + bh + 1))
    if x2 > x1 and y2 > y1:
        sub = idmap[y1:y2, x1:x2]
        mine = sub == pid
        covered = (sub != pid) & (sub != 0)
        full = max(1, int(mine.sum() + covered.sum() * 0.5))
        vis = vis_counts[pid] / full
        ys, xs = np.nonzero(mine)
    else:
        vis, ys, xs = 0.0, [], []
    occl = int(vis < OCCLUDED_BELOW)
    if occl and len(xs):
        return (x1 + xs.min(), y1 + ys.min(), xs.max() - xs.min() + 1,
                ys.max() - ys.min() + 1), occl
    return (0, 0, 0, 0), occl


def visibility_states(idmap: np.ndarray, drawn: list, n_ids: int) -> List[tuple]:
    """``(track, box, posv, occl)`` per drawn person ``(pid, track, box)``, from the id map
    after occluders were drawn over it (occluder pixels are -1)."""
    vis_counts = np.bincount(idmap[idmap > 0].ravel(), minlength=n_ids + 1)
    out = []
    for pid, ti, box in drawn:
        posv, occl = _visible(idmap, vis_counts, pid, box)
        out.append((ti, box, posv, occl))
    return out


def union_box(a: Optional[tuple], b: tuple) -> tuple:
    """The union of two ``x1, y1, x2, y2`` boxes (``a`` may be None)."""
    if a is None:
        return b
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def to_vbb(states: Dict[int, list], tracks: list, n_frames: int) -> VbbAnnotation:
    """One vbb object per track with states ``(frame, pos, posv, occl)``; key
    :data:`CROWD` is the crowd."""
    objects = []
    for ti, st in sorted(states.items()):
        if not st:
            continue
        label, hide = ('crowd', 0) if ti == CROWD else (tracks[ti].label, tracks[ti].hide)
        objects.append(VbbObject(
            label=label, start=st[0][0] + 1, end=st[-1][0] + 1, hide=hide,
            pos=np.array([s[1] for s in st], np.float64).round(2),
            posv=np.array([s[2] for s in st], np.float64),
            occl=np.array([s[3] for s in st], np.int64),
            lock=np.zeros(len(st), np.int64)))
    return VbbAnnotation(n_frames=n_frames, objects=objects, log=np.zeros(0))
