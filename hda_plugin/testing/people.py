"""Synthetic people: stylised walkers (head, torso, swinging arms and legs, about 1:2.5)
on straight tracks, scaled by perspective, and crowds that stay roughly in place."""
from dataclasses import dataclass
from typing import List, Optional, Tuple

import cv2
import numpy as np

from .scene import rand_color

__all__ = ['Track', 'height_at', 'new_track', 'new_crowd', 'random_colors', 'draw_person',
           'person_parts']


@dataclass
class Track:
    """One walker (or, with ``members``, one crowd) and the vbb label it gets."""
    label: str
    hide: int
    start: int  # 0-based frame
    x: float  # foot centre x
    y: float  # foot y
    vx: float
    vy: float
    phase: float
    colors: dict
    members: Optional[list] = None  # crowd: (dx, dy, scale, colours, phase) per member

    def position(self, frame: int) -> Tuple[float, float]:
        """Foot point at 0-based ``frame``."""
        k = frame - self.start
        return self.x + self.vx * k, self.y + self.vy * k


def height_at(y: float, horizon: int, h: int) -> float:
    """Perspective: zero at the horizon, half the frame height at the bottom row."""
    return max(0.0, (y - horizon) * (0.5 * h) / (h - horizon))


def random_colors(rng) -> dict:
    skin = [(60, 90, 140), (90, 130, 190), (120, 160, 215), (40, 60, 95)][rng.randint(4)]
    return dict(shirt=rand_color(rng), trousers=rand_color(rng, 10, 160),
                skin=tuple(int(v) for v in np.clip(np.array(skin) + rng.randint(-15, 15, 3), 0,
                                                   255)),
                hair=rand_color(rng, 0, 80), shoes=rand_color(rng, 0, 60))


def new_track(rng, frame: int, w: int, h: int, horizon: int) -> Track:
    """A walker entering at ``frame``: from a side (70 %) or through a door, at least 30 px
    tall; far ones are sometimes ``personUnk``, 3 % carry ``hide=1``."""
    y_min = horizon + 30 * (h - horizon) / (0.5 * h) + 1  # 30 px tall there
    y = rng.uniform(y_min, h * 1.02)
    hgt = height_at(y, horizon, h)
    speed = hgt * rng.uniform(0.10, 0.25)  # per frame, ~ body width / 3 .. / 1.5
    if rng.rand() < 0.7:  # enter from a side, half visible
        left = rng.rand() < 0.5
        x = 0.0 if left else float(w)
        vx = speed if left else -speed
    else:  # appear inside (through a door), walk any way
        x = rng.uniform(0.1, 0.9) * w
        vx = speed * rng.choice([-1, 1])
    vy = rng.uniform(-0.03, 0.03) * hgt
    label = 'person%02d' % rng.randint(1, 90)
    if hgt < 45 and rng.rand() < 0.3:
        label = 'personUnk'
    hide = int(rng.rand() < 0.03)
    return Track(label, hide, frame, x, y, vx, vy, rng.uniform(0, 6.28), random_colors(rng))


def new_crowd(rng, w: int, h: int, horizon: int) -> Track:
    """A cluster of 4-7 small overlapping people, labelled ``crowd``."""
    cy = rng.uniform(horizon + 40 * (h - horizon) / (0.5 * h), h * 0.8)
    cx = rng.uniform(0.15, 0.85) * w
    members = [(rng.uniform(-0.45, 0.45), rng.uniform(-0.08, 0.08), rng.uniform(0.85, 1.1),
                random_colors(rng), rng.uniform(0, 6.28)) for _ in range(rng.randint(4, 8))]
    return Track('crowd', 0, 0, cx, cy, rng.uniform(-0.3, 0.3), 0.0, 0.0, {}, members=members)


def person_parts(x: float, y: float, hgt: float, phase: float) -> List[tuple]:
    """Body parts ``(kind, geometry)`` of a person with feet at (x, y) and height hgt."""
    top = y - hgt
    u = hgt / 100.0
    s = np.sin(phase)
    parts = []
    for sign in (-1, 1):  # legs (swing)
        hip = (x + sign * 5 * u, top + 52 * u)
        foot = (x + sign * 4 * u + sign * s * 9 * u, y - 2 * u)
        parts.append(('leg', hip, foot, 8 * u))
    for sign in (-1, 1):  # arms (counter-swing)
        sh = (x + sign * 12 * u, top + 20 * u)
        hand = (x + sign * 14 * u - sign * s * 5 * u, top + 50 * u)
        parts.append(('arm', sh, hand, 6 * u))
    parts.append(('torso', (x, top + 36 * u), (13 * u, 19 * u)))
    parts.append(('head', (x, top + 8.5 * u), (6.5 * u, 8.5 * u)))
    return parts


def _draw_limb(img, idmap, pid, kind, a, b, t, colors):
    col = colors['trousers'] if kind == 'leg' else colors['shirt']
    pa = (int(round(a[0] * 8)), int(round(a[1] * 8)))
    pb = (int(round(b[0] * 8)), int(round(b[1] * 8)))
    th = max(1, int(round(t)))
    cv2.line(img, pa, pb, col, th, cv2.LINE_AA, shift=3)
    cv2.line(idmap, pa, pb, pid, th, 8, shift=3)
    if kind == 'leg':
        cv2.circle(img, (int(b[0]), int(b[1])), max(1, th // 2), colors['shoes'], -1)


def _draw_blob(img, idmap, pid, kind, c, rx, ry, colors):
    col = colors['shirt'] if kind == 'torso' else colors['skin']
    cen = (int(round(c[0] * 8)), int(round(c[1] * 8)))
    axes = (max(8, int(round(rx * 8))), max(8, int(round(ry * 8))))
    cv2.ellipse(img, cen, axes, 0, 0, 360, col, -1, cv2.LINE_AA, shift=3)
    cv2.ellipse(idmap, cen, axes, 0, 0, 360, pid, -1, 8, shift=3)
    if kind == 'head':  # hair
        cv2.ellipse(img, cen, axes, 0, 180, 360, colors['hair'], -1, cv2.LINE_AA, shift=3)


def draw_person(img, idmap, pid: int, x: float, y: float, hgt: float, phase: float,
                colors: dict) -> None:
    """Draws a person into ``img`` and its pixels as ``pid`` into ``idmap``; legs, arms,
    torso, head in that order."""
    parts = person_parts(x, y, hgt, phase)
    for kind in ('leg', 'arm', 'torso', 'head'):
        for p in parts:
            if p[0] != kind:
                continue
            if kind in ('leg', 'arm'):
                _draw_limb(img, idmap, pid, kind, p[1], p[2], p[3], colors)
            else:
                _draw_blob(img, idmap, pid, kind, p[1], *p[2], colors)
