"""A small synthetic HDA release in the real layout and formats.

Each camera gets its own indoor scene (wall and floor colours, doors, windows, posters,
perspective floor tiles, lighting, colour cast, horizon height) and its own props, among
them person-like distractors (plants, coat stands, signs) and foreground occluders
(counters, pillars). Stylised people (head, torso, swinging arms and legs; about 1:2.5,
30 px up to half the frame high, scaled by perspective) walk across, enter and leave the
frame, pass behind occluders and each other. Small groups are labelled ``crowd``; a few
far people ``personUnk``; a few tracks carry ``hide=1``. Frames are written as JPEG into
Norpix ``.seq`` videos (8- and 16-byte frame padding alternate between cameras) and the
boxes as vbb 1.4 text, so the same readers as for the real release are exercised.
"""
import os
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np

from .layout import HDA_LAYOUT, camera_name
from .seq import write_seq
from .vbb import VbbAnnotation, VbbObject, dump_vbb

__all__ = ['CAMERA_RESOLUTIONS', 'DEFAULT_CAMERAS', 'make_synthetic_hda']

#: Resolutions of the real HDA cameras (third-party converter, see shared docs).
CAMERA_RESOLUTIONS = {
    2: (640, 480), 17: (640, 480), 18: (640, 480), 19: (640, 480), 40: (640, 480),
    50: (1280, 800), 53: (1280, 800), 54: (1280, 800), 56: (1280, 800), 57: (1280, 800),
    58: (1280, 800), 59: (1280, 800), 60: (2560, 1600)}
DEFAULT_CAMERAS = (17, 18, 19, 40, 50, 53, 54)


@dataclass
class _Track:
    label: str
    hide: int
    start: int  # 0-based frame
    x: float  # foot centre x
    y: float  # foot y
    vx: float
    vy: float
    phase: float
    colors: dict
    members: Optional[list] = None  # crowd: offsets (dx, dy, scale, colours)


def _rand_color(rng, lo=20, hi=235):
    return tuple(int(v) for v in rng.randint(lo, hi, 3))


def _scene(rng, w, h):
    """Static background, occluders and scene parameters of one camera."""
    horizon = int(h * rng.uniform(0.28, 0.5))
    wall, floor = np.array(_rand_color(rng, 60, 220)), np.array(_rand_color(rng, 40, 200))
    img = np.empty((h, w, 3), np.float32)
    ramp = np.linspace(0.85, 1.1, horizon)[:, None, None]
    img[:horizon] = wall[None, None] * ramp
    fr = np.linspace(0.9, 1.15, h - horizon)[:, None, None]
    img[horizon:] = floor[None, None] * fr
    img = np.clip(img, 0, 255).astype(np.uint8)
    # Perspective floor tiles converging on a vanishing point.
    vx = int(w * rng.uniform(0.2, 0.8))
    line = tuple(int(c) for c in np.clip(floor * rng.uniform(0.6, 0.8), 0, 255))
    for k in range(-12, 13):
        cv2.line(img, (vx, horizon), (vx + k * w // 6, h), line, max(1, w // 640), cv2.LINE_AA)
    y = horizon
    step = 6
    while y < h:
        cv2.line(img, (0, y), (w, y), line, 1, cv2.LINE_AA)
        y += step
        step = int(step * 1.35) + 1
    # Doors, windows, posters, skirting on the wall.
    for _ in range(rng.randint(3, 8)):
        pw, ph = int(w * rng.uniform(0.04, 0.15)), int(horizon * rng.uniform(0.3, 0.9))
        px, py = rng.randint(0, max(1, w - pw)), rng.randint(0, max(1, horizon - ph))
        kind = rng.rand()
        col = (240, 240, 230) if kind < 0.25 else _rand_color(rng)
        cv2.rectangle(img, (px, py), (px + pw, py + ph), col, -1)
        cv2.rectangle(img, (px, py), (px + pw, py + ph), _rand_color(rng, 0, 90),
                      max(1, w // 400))
    cv2.rectangle(img, (0, horizon - max(2, h // 80)), (w, horizon), _rand_color(rng, 0, 120), -1)
    # Person-like distractors: plants, coat stands, signs, bins (upright, person-sized).
    props = []
    for _ in range(rng.randint(3, 7)):
        fy = rng.uniform(horizon + 20, h * 0.97)
        ph = (fy - horizon) * rng.uniform(0.3, 0.55) * h / max(1, (h - horizon)) + 12
        fx = rng.uniform(0.05, 0.95) * w
        props.append((fy, fx, ph, rng.randint(4), _rand_color(rng), _rand_color(rng)))
    for fy, fx, ph, kind, c1, c2 in sorted(props):
        pw = ph / rng.uniform(2.0, 4.0)
        x1, x2, y1 = int(fx - pw / 2), int(fx + pw / 2), int(fy - ph)
        if kind == 0:  # plant: pot + leafy blob
            cv2.rectangle(img, (int(fx - pw / 4), int(fy - ph * 0.3)), (int(fx + pw / 4), int(fy)),
                          c1, -1)
            cv2.ellipse(img, (int(fx), int(fy - ph * 0.62)), (int(pw / 2), int(ph * 0.35)), 0, 0,
                        360, (30, int(rng.randint(90, 170)), 40), -1, cv2.LINE_AA)
        elif kind == 1:  # coat stand with a coat
            cv2.line(img, (int(fx), int(fy)), (int(fx), y1), (40, 40, 40), max(2, int(pw / 8)))
            cv2.ellipse(img, (int(fx), int(fy - ph * 0.6)), (int(pw / 3), int(ph * 0.25)), 0, 0,
                        360, c2, -1, cv2.LINE_AA)
        elif kind == 2:  # standing sign
            cv2.rectangle(img, (x1, y1), (x2, int(fy - ph * 0.35)), c1, -1)
            cv2.line(img, (int(fx), int(fy - ph * 0.35)), (int(fx), int(fy)), (50, 50, 50), 2)
        else:  # bin / column segment
            cv2.rectangle(img, (x1, int(fy - ph * 0.45)), (x2, int(fy)), c2, -1)
    # Foreground occluders drawn over people: a counter and pillars.
    occluders = []
    if rng.rand() < 0.8:
        cy = int(h * rng.uniform(0.72, 0.9))
        cx1 = int(w * rng.uniform(0.0, 0.5))
        occluders.append(('rect', (cx1, cy, cx1 + int(w * rng.uniform(0.2, 0.4)), h),
                          _rand_color(rng)))
    for _ in range(rng.randint(0, 3)):
        px = int(w * rng.uniform(0.05, 0.95))
        occluders.append(('rect', (px, 0, px + int(w * rng.uniform(0.03, 0.06)), h),
                          _rand_color(rng, 80, 230)))
    light = dict(gain=rng.uniform(0.65, 1.25), cast=rng.uniform(0.85, 1.15, 3),
                 vignette=rng.uniform(0.0, 0.45), noise=rng.uniform(2.0, 7.0))
    return dict(img=img, horizon=horizon, occluders=occluders, light=light)


def _person_polys(x, y, hgt, phase):
    """Body parts (kind, geometry) of a person with feet at (x, y) and height hgt."""
    top = y - hgt
    u = hgt / 100.0
    s = np.sin(phase)
    parts = []
    # legs (swing), trousers
    for sign in (-1, 1):
        hip = (x + sign * 5 * u, top + 52 * u)
        foot = (x + sign * 4 * u + sign * s * 9 * u, y - 2 * u)
        parts.append(('leg', hip, foot, 8 * u))
    # arms (counter-swing), sleeves
    for sign in (-1, 1):
        sh = (x + sign * 12 * u, top + 20 * u)
        hand = (x + sign * 14 * u - sign * s * 5 * u, top + 50 * u)
        parts.append(('arm', sh, hand, 6 * u))
    parts.append(('torso', (x, top + 36 * u), (13 * u, 19 * u)))
    parts.append(('head', (x, top + 8.5 * u), (6.5 * u, 8.5 * u)))
    return parts


def _draw_person(img, idmap, pid, x, y, hgt, phase, colors):
    parts = _person_polys(x, y, hgt, phase)
    order = ['leg', 'arm', 'torso', 'head']
    for kind in order:
        for p in parts:
            if p[0] != kind:
                continue
            if kind in ('leg', 'arm'):
                _, a, b, t = p
                col = colors['trousers'] if kind == 'leg' else colors['shirt']
                pa = (int(round(a[0] * 8)), int(round(a[1] * 8)))
                pb = (int(round(b[0] * 8)), int(round(b[1] * 8)))
                th = max(1, int(round(t)))
                for tgt, c in ((img, col), (idmap, pid)):
                    cv2.line(tgt, pa, pb, c, th, cv2.LINE_AA if tgt is img else 8, shift=3)
                if kind == 'leg':
                    cv2.circle(img, (int(b[0]), int(b[1])), max(1, th // 2), colors['shoes'], -1)
            else:
                _, c, (rx, ry) = p
                col = colors['shirt'] if kind == 'torso' else colors['skin']
                cen = (int(round(c[0] * 8)), int(round(c[1] * 8)))
                axes = (max(8, int(round(rx * 8))), max(8, int(round(ry * 8))))
                cv2.ellipse(img, cen, axes, 0, 0, 360, col, -1, cv2.LINE_AA, shift=3)
                cv2.ellipse(idmap, cen, axes, 0, 0, 360, pid, -1, 8, shift=3)
                if kind == 'head':  # hair
                    cv2.ellipse(img, cen, axes, 0, 180, 360, colors['hair'], -1, cv2.LINE_AA,
                                shift=3)


def _colors(rng):
    skin = [(60, 90, 140), (90, 130, 190), (120, 160, 215), (40, 60, 95)][rng.randint(4)]
    return dict(shirt=_rand_color(rng), trousers=_rand_color(rng, 10, 160),
                skin=tuple(int(v) for v in np.clip(np.array(skin) + rng.randint(-15, 15, 3), 0,
                                                   255)),
                hair=_rand_color(rng, 0, 80), shoes=_rand_color(rng, 0, 60))


def _height_at(y, horizon, h):
    """Perspective: zero at the horizon, half the frame height at the bottom row."""
    return max(0.0, (y - horizon) * (0.5 * h) / (h - horizon))


def _new_track(rng, f, w, h, horizon):
    y_min = horizon + 30 * (h - horizon) / (0.5 * h) + 1  # 30 px tall there
    y = rng.uniform(y_min, h * 1.02)
    hgt = _height_at(y, horizon, h)
    speed = hgt * rng.uniform(0.10, 0.25)  # per frame, ~ body width / 3 .. / 1.5
    if rng.rand() < 0.7:  # enter from a side
        left = rng.rand() < 0.5
        x = 0.0 if left else float(w)  # enters half visible
        vx = speed if left else -speed
    else:  # appear inside (through a door), walk any way
        x = rng.uniform(0.1, 0.9) * w
        vx = speed * rng.choice([-1, 1])
    vy = rng.uniform(-0.03, 0.03) * hgt
    label = 'person%02d' % rng.randint(1, 90)
    if hgt < 45 and rng.rand() < 0.3:
        label = 'personUnk'
    hide = int(rng.rand() < 0.03)
    return _Track(label, hide, f, x, y, vx, vy, rng.uniform(0, 6.28), _colors(rng))


def _render_camera(rng, w, h, n_frames):
    sc = _scene(rng, w, h)
    horizon = sc['horizon']
    tracks: List[_Track] = []
    states: Dict[int, list] = {}  # track index -> list of (frame, box, vis_box, occl)
    active = []
    target = rng.randint(3, 7)
    # A crowd: a cluster of small overlapping people that stays roughly in place.
    crowds = []
    if rng.rand() < 0.4:
        cy = rng.uniform(horizon + 40 * (h - horizon) / (0.5 * h), h * 0.8)
        cx = rng.uniform(0.15, 0.85) * w
        members = [(rng.uniform(-0.45, 0.45), rng.uniform(-0.08, 0.08), rng.uniform(0.85, 1.1),
                    _colors(rng), rng.uniform(0, 6.28)) for _ in range(rng.randint(4, 8))]
        crowds.append(_Track('crowd', 0, 0, cx, cy, rng.uniform(-0.3, 0.3), 0.0, 0.0, {},
                             members=members))
    frames = []
    light = sc['light']
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    d = np.sqrt(((xx - w / 2) / (w / 2))**2 + ((yy - h / 2) / (h / 2))**2) / np.sqrt(2)
    vign = (1.0 - light['vignette'] * d**2)[..., None]
    shade = (vign * light['gain'] * light['cast'][None, None]).astype(np.float32)
    for f in range(n_frames):
        while len(active) < target:
            tracks.append(_new_track(rng, f, w, h, horizon))
            active.append(len(tracks) - 1)
            states[len(tracks) - 1] = []
        img = sc['img'].copy()
        idmap = np.zeros((h, w), np.int32)
        drawn = []  # (pid, track index, box)
        items = []
        for ti in active:
            t = tracks[ti]
            k = f - t.start
            x, y = t.x + t.vx * k, t.y + t.vy * k
            items.append((y, 'p', ti, x))
        for c in crowds:
            x = c.x + c.vx * f
            for mi, (dx, dy, s, col, ph) in enumerate(c.members):
                hg = _height_at(c.y, horizon, h) * s
                items.append((c.y + dy * hg, 'c', (mi, dx * hg * 0.35 + x, hg, col, ph + f * 1.2),
                              c))
        pid = 0
        crowd_box = None
        for item in sorted(items, key=lambda it: it[0]):
            pid += 1
            if item[1] == 'p':
                _, _, ti, x = item
                t = tracks[ti]
                y = item[0]
                hgt = _height_at(y, horizon, h)
                _draw_person(img, idmap, pid, x, y, hgt, t.phase + 1.1 * (f - t.start), t.colors)
                bw = hgt / 2.5
                drawn.append((pid, ti, (x - bw / 2, y - hgt, bw, hgt)))
            else:
                _, _, (mi, x, hg, col, ph), c = item
                y = item[0]
                _draw_person(img, idmap, pid, x, y, hg, ph, col)
                b = (x - hg / 5, y - hg, x + hg / 5, y)
                crowd_box = b if crowd_box is None else (
                    min(crowd_box[0], b[0]), min(crowd_box[1], b[1]),
                    max(crowd_box[2], b[2]), max(crowd_box[3], b[3]))
        n_people = pid
        for kind, (x1, y1, x2, y2), col in sc['occluders']:
            cv2.rectangle(img, (x1, y1), (x2, y2), col, -1)
            cv2.rectangle(idmap, (x1, y1), (x2, y2), -1, -1)
        # Visibility: share of each person's pixels still on top.
        vis_counts = np.bincount(idmap[idmap > 0].ravel(), minlength=n_people + 1)
        for p, ti, (l, t_, bw, bh) in drawn:
            x1, y1 = int(max(0, l)), int(max(0, t_))
            x2, y2 = int(min(w, l + bw + 1)), int(min(h, t_ + bh + 1))
            full = 1
            if x2 > x1 and y2 > y1:
                sub = idmap[y1:y2, x1:x2]
                mine = sub == p
                covered = (sub != p) & (sub != 0)
                full = max(1, int(mine.sum() + covered.sum() * 0.5))
                vis = vis_counts[p] / full
                ys, xs = np.nonzero(mine)
            else:
                vis, ys, xs = 0.0, [], []
            occl = int(vis < 0.7)
            if occl and len(xs):
                posv = (x1 + xs.min(), y1 + ys.min(), xs.max() - xs.min() + 1,
                        ys.max() - ys.min() + 1)
            else:
                posv = (0, 0, 0, 0)
            states[ti].append((f, (l, t_, bw, bh), posv, occl))
        for c in crowds:
            if crowd_box is not None:
                c_state = states.setdefault(-1, [])
                x1, y1, x2, y2 = crowd_box
                c_state.append((f, (x1, y1, x2 - x1, y2 - y1), (0, 0, 0, 0), 0))
        # Lighting, flicker, sensor noise.
        out = img.astype(np.float32) * shade * rng.uniform(0.95, 1.05)
        out += rng.normal(0, light['noise'], out.shape).astype(np.float32)
        frames.append(np.clip(out, 0, 255).astype(np.uint8))
        # Retire tracks that left the frame (or walked far enough).
        still = []
        for ti in active:
            t = tracks[ti]
            k = f + 1 - t.start
            x, y = t.x + t.vx * k, t.y + t.vy * k
            hgt = _height_at(y, horizon, h)
            if 0 <= x <= w and y < h * 1.1 and hgt > 25:
                still.append(ti)
        active = still
    objects = []
    for ti, st in sorted(states.items()):
        if not st:
            continue
        label, hide = ('crowd', 0) if ti == -1 else (tracks[ti].label, tracks[ti].hide)
        objects.append(VbbObject(
            label=label, start=st[0][0] + 1, end=st[-1][0] + 1, hide=hide,
            pos=np.array([s[1] for s in st], np.float64).round(2),
            posv=np.array([s[2] for s in st], np.float64),
            occl=np.array([s[3] for s in st], np.int64),
            lock=np.zeros(len(st), np.int64)))
    return frames, VbbAnnotation(n_frames=n_frames, objects=objects, log=np.zeros(0))


def make_synthetic_hda(out_dir: str, cameras: Sequence[int] = DEFAULT_CAMERAS, frames: int = 60,
                       seed: int = 0, quality: int = 85, progress: bool = True) -> dict:
    """Writes a synthetic HDA release under ``out_dir``.

    Args:
        out_dir (str): release root to create.
        cameras (Sequence[int]): camera ids; resolutions follow the real cameras.
            Defaults to :data:`DEFAULT_CAMERAS`.
        frames (int): frames per camera. Defaults to 60.
        seed (int): random seed; output is deterministic for a seed. Defaults to 0.
        quality (int): JPEG quality of the ``.seq`` frames. Defaults to 85.
        progress (bool): show a progress bar. Defaults to True.

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
        cam = int(camera_name(cam)[3:])
        if cam not in CAMERA_RESOLUTIONS:
            raise ValueError(f'Unknown HDA camera {cam}: expected one of '
                             f'{sorted(CAMERA_RESOLUTIONS)}.')
        w, h = CAMERA_RESOLUTIONS[cam]
        rng = np.random.RandomState([seed, cam])
        imgs, ann = _render_camera(rng, w, h, frames)
        write_seq(osp.join(seq_dir, f'camera{cam:02d}.seq'), imgs, codec='jpg',
                  padding=8 if i % 2 == 0 else 16, fps=5.0, quality=quality)
        ann.path = osp.join(ann_dir, f'cam{cam:02d}.txt')
        with open(ann.path, 'w') as f:
            f.write(dump_vbb(ann))
        boxes: Dict[str, int] = {}
        for o in ann.objects:
            key = 'person' if o.label.startswith('person') and o.label != 'personUnk' else o.label
            boxes[key] = boxes.get(key, 0) + len(o.pos)
        summary[f'cam{cam:02d}'] = dict(resolution=f'{w}x{h}', frames=frames,
                                        objects=len(ann.objects), boxes=boxes)
    return summary
