"""A small synthetic HDA release in the real layout and formats.

Each camera gets its own indoor scene (:mod:`.scene`) and people walking through it
(:mod:`.people`): they enter and leave the frame, pass behind occluders and each other.
Small groups are labelled ``crowd``; a few far people ``personUnk``; a few tracks carry
``hide=1`` (:mod:`.annotations`). Frames are written as JPEG into Norpix ``.seq`` videos
(8- and 16-byte frame padding alternate between cameras) and the boxes as vbb 1.4 text,
so the same readers as for the real release are exercised.
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from ..fileio.hda_layout import HDA_LAYOUT, camera_id, camera_name, seq_filename
from ..fileio.seq import write_seq
from ..fileio.vbb import VbbAnnotation, dump_vbb
from .annotations import CROWD, to_vbb, union_box, visibility_states
from .people import Track, draw_person, height_at, new_crowd, new_track, random_colors
from .scene import Scene, expose, make_scene, shading

__all__ = ['CAMERA_RESOLUTIONS', 'DEFAULT_CAMERAS', 'make_synthetic_hda', 'render_camera',
           'render_small_people']

#: Resolutions of the real HDA cameras (third-party converter, see shared docs).
CAMERA_RESOLUTIONS = {
    2: (640, 480), 17: (640, 480), 18: (640, 480), 19: (640, 480), 40: (640, 480),
    50: (1280, 800), 53: (1280, 800), 54: (1280, 800), 56: (1280, 800), 57: (1280, 800),
    58: (1280, 800), 59: (1280, 800), 60: (2560, 1600)}
DEFAULT_CAMERAS = (17, 18, 19, 40, 50, 53, 54)


def _draw_frame(sc: Scene, f: int, tracks: List[Track], active: List[int],
                crowds: List[Track]) -> Tuple[np.ndarray, np.ndarray, list, int, tuple]:
    """Draws frame ``f`` far to near: the image, the person-id map, the drawn walkers
    ``(pid, track, box)``, the number of ids used and the crowd's box (or None)."""
    h, w = sc.img.shape[:2]
    items = []
    for ti in active:
        x, y = tracks[ti].position(f)
        items.append((y, 'p', ti, x))
    for c in crowds:
        x = c.x + c.vx * f
        for mi, (dx, dy, s, col, ph) in enumerate(c.members):
            hg = height_at(c.y, sc.horizon, h) * s
            items.append((c.y + dy * hg, 'c', (mi, dx * hg * 0.35 + x, hg, col, ph + f * 1.2), c))
    img = sc.img.copy()
    idmap = np.zeros((h, w), np.int32)
    drawn, crowd_box, pid = [], None, 0
    for item in sorted(items, key=lambda it: it[0]):
        pid += 1
        y = item[0]
        if item[1] == 'p':
            t, x = tracks[item[2]], item[3]
            hgt = height_at(y, sc.horizon, h)
            draw_person(img, idmap, pid, x, y, hgt, t.phase + 1.1 * (f - t.start), t.colors)
            bw = hgt / 2.5
            drawn.append((pid, item[2], (x - bw / 2, y - hgt, bw, hgt)))
        else:
            _, x, hg, col, ph = item[2]
            draw_person(img, idmap, pid, x, y, hg, ph, col)
            crowd_box = union_box(crowd_box, (x - hg / 5, y - hg, x + hg / 5, y))
    for _, (x1, y1, x2, y2), col in sc.occluders:
        cv2.rectangle(img, (x1, y1), (x2, y2), col, -1)
        cv2.rectangle(idmap, (x1, y1), (x2, y2), -1, -1)
    return img, idmap, drawn, pid, crowd_box


def _in_view(t: Track, frame: int, w: int, h: int, horizon: int) -> bool:
    x, y = t.position(frame)
    return 0 <= x <= w and y < h * 1.1 and height_at(y, horizon, h) > 25


def render_camera(rng, w: int, h: int, n_frames: int) -> Tuple[List[np.ndarray], VbbAnnotation]:
    """``n_frames`` frames of one camera and their vbb annotation."""
    sc = make_scene(rng, w, h)
    tracks: List[Track] = []
    states: Dict[int, list] = {}  # track index (CROWD: the crowd) -> (frame, pos, posv, occl)
    active: List[int] = []
    target = rng.randint(3, 7)  # walkers in view at any time
    crowds = [new_crowd(rng, w, h, sc.horizon)] if rng.rand() < 0.4 else []
    shade = shading(sc.light, w, h)
    frames = []
    for f in range(n_frames):
        while len(active) < target:
            tracks.append(new_track(rng, f, w, h, sc.horizon))
            active.append(len(tracks) - 1)
            states[len(tracks) - 1] = []
        img, idmap, drawn, n_ids, crowd_box = _draw_frame(sc, f, tracks, active, crowds)
        for ti, box, posv, occl in visibility_states(idmap, drawn, n_ids):
            states[ti].append((f, box, posv, occl))
        if crowds and crowd_box is not None:
            x1, y1, x2, y2 = crowd_box
            states.setdefault(CROWD, []).append((f, (x1, y1, x2 - x1, y2 - y1), (0, 0, 0, 0), 0))
        frames.append(expose(rng, img, shade, sc.light['noise']))
        active = [ti for ti in active if _in_view(tracks[ti], f + 1, w, h, sc.horizon)]
    return frames, to_vbb(states, tracks, n_frames)


def render_small_people(rng, w: int, h: int, n_frames: int,
                        heights: Tuple[float, float] = (25, 60),
                        people: Tuple[int, int] = (12, 25)
                        ) -> Tuple[List[np.ndarray], VbbAnnotation]:
    """Frames of a far, wide view: ``people`` walkers of fixed heights drawn uniformly from
    ``heights`` (pixels) anywhere on the floor, the camera's scene and occluders otherwise
    as :func:`render_camera`. For tiled inference: on a 2560x1600 frame resized to a 512 px
    input such people shrink below SSD's smallest anchors."""
    sc = make_scene(rng, w, h)
    shade = shading(sc.light, w, h)
    tracks, hgts, states = [], [], {}
    for i in range(rng.randint(people[0], people[1] + 1)):
        hgt = rng.uniform(*heights)
        y = rng.uniform(max(sc.horizon, hgt) + 2, h - 2)
        x = rng.uniform(0.03, 0.97) * w
        vx = hgt * rng.uniform(0.05, 0.15) * rng.choice([-1, 1])
        tracks.append(Track('person%02d' % rng.randint(1, 90), 0, 0, x, y, vx, 0.0,
                            rng.uniform(0, 6.28), random_colors(rng)))
        hgts.append(hgt)
        states[i] = []
    frames = []
    for f in range(n_frames):
        img, idmap, drawn, pid = sc.img.copy(), np.zeros((h, w), np.int32), [], 0
        order = sorted(range(len(tracks)), key=lambda i: tracks[i].position(f)[1])
        for ti in order:
            x, y = tracks[ti].position(f)
            if not 0 <= x <= w:
                continue
            pid += 1
            draw_person(img, idmap, pid, x, y, hgts[ti], tracks[ti].phase + 1.1 * f,
                        tracks[ti].colors)
            bw = hgts[ti] / 2.5
            drawn.append((pid, ti, (x - bw / 2, y - hgts[ti], bw, hgts[ti])))
        for _, (x1, y1, x2, y2), col in sc.occluders:
            cv2.rectangle(img, (x1, y1), (x2, y2), col, -1)
            cv2.rectangle(idmap, (x1, y1), (x2, y2), -1, -1)
        for ti, box, posv, occl in visibility_states(idmap, drawn, pid):
            states[ti].append((f, box, posv, occl))
        frames.append(expose(rng, img, shade, sc.light['noise']))
    return frames, to_vbb(states, tracks, n_frames)


def _box_counts(ann: VbbAnnotation) -> Dict[str, int]:
    boxes: Dict[str, int] = {}
    for o in ann.objects:
        key = 'person' if o.label.startswith('person') and o.label != 'personUnk' else o.label
        boxes[key] = boxes.get(key, 0) + len(o.pos)
    return boxes


def make_synthetic_hda(out_dir: str, cameras: Sequence[int] = DEFAULT_CAMERAS, frames: int = 60,
                       seed: int = 0, quality: int = 85, progress: bool = True,
                       person_heights: Optional[Tuple[float, float]] = None) -> dict:
    """Writes a synthetic HDA release under ``out_dir``.

    Args:
        out_dir (str): release root to create.
        cameras (Sequence[int]): camera ids; resolutions follow the real cameras.
            Defaults to :data:`DEFAULT_CAMERAS`.
        frames (int): frames per camera. Defaults to 60.
        seed (int): random seed; output is deterministic for a seed. Defaults to 0.
        quality (int): JPEG quality of the ``.seq`` frames. Defaults to 85.
        progress (bool): show a progress bar. Defaults to True.
        person_heights (tuple, optional): ``(lo, hi)`` pixels: people of these heights
            anywhere on the floor (:func:`render_small_people`) instead of the perspective
            walkers and crowds of :func:`render_camera`. Defaults to None.

    Returns:
        dict: per-camera summary (resolution, frames, objects, boxes by label).
    """
    seq_dir = osp.join(out_dir, HDA_LAYOUT['seq'])
    ann_dir = osp.join(out_dir, HDA_LAYOUT['ann'])
    os.makedirs(seq_dir, exist_ok=True)
    os.makedirs(ann_dir, exist_ok=True)
    summary = {}
    it = list(cameras)
    if progress:
        from tqdm import tqdm
        it = tqdm(it, desc='synthetic HDA cameras', unit='cam')
    for i, cam in enumerate(it):
        cam = camera_id(cam)
        if cam not in CAMERA_RESOLUTIONS:
            raise ValueError(f'Unknown HDA camera {cam}: expected one of '
                             f'{sorted(CAMERA_RESOLUTIONS)}.')
        w, h = CAMERA_RESOLUTIONS[cam]
        rng = np.random.RandomState([seed, cam])
        imgs, ann = render_camera(rng, w, h, frames) if person_heights is None else \
            render_small_people(rng, w, h, frames, person_heights)
        write_seq(osp.join(seq_dir, seq_filename(cam)), imgs, codec='jpg',
                  padding=8 if i % 2 == 0 else 16, fps=5.0, quality=quality)
        ann.path = osp.join(ann_dir, f'{camera_name(cam)}.txt')
        with open(ann.path, 'w') as f:
            f.write(dump_vbb(ann))
        summary[camera_name(cam)] = dict(resolution=f'{w}x{h}', frames=frames,
                                        objects=len(ann.objects), boxes=_box_counts(ann))
    return summary
