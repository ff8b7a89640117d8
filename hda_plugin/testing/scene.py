"""The static part of a synthetic camera: room, person-like props, occluders, lighting.

Every function draws from the camera's ``numpy.random.RandomState`` in a fixed order, so a
seed gives the same release on every run (the order is part of the output: keep it).
"""
from dataclasses import dataclass
from typing import List, Tuple

import cv2
import numpy as np

__all__ = ['Scene', 'make_scene', 'rand_color', 'shading', 'expose']


@dataclass
class Scene:
    """One camera's background image, horizon row, occluders (drawn over people) and
    lighting parameters."""
    img: np.ndarray
    horizon: int
    occluders: List[Tuple[str, Tuple[int, int, int, int], tuple]]
    light: dict


def rand_color(rng, lo=20, hi=235) -> tuple:
    return tuple(int(v) for v in rng.randint(lo, hi, 3))


def _room(rng, w, h):
    """Wall and floor with a vertical light ramp; returns the image, horizon and floor
    colour."""
    horizon = int(h * rng.uniform(0.28, 0.5))
    wall, floor = np.array(rand_color(rng, 60, 220)), np.array(rand_color(rng, 40, 200))
    img = np.empty((h, w, 3), np.float32)
    img[:horizon] = wall[None, None] * np.linspace(0.85, 1.1, horizon)[:, None, None]
    img[horizon:] = floor[None, None] * np.linspace(0.9, 1.15, h - horizon)[:, None, None]
    return np.clip(img, 0, 255).astype(np.uint8), horizon, floor


def _floor_tiles(rng, img, horizon, floor):
    """Perspective floor tiles converging on a vanishing point on the horizon."""
    h, w = img.shape[:2]
    vx = int(w * rng.uniform(0.2, 0.8))
    line = tuple(int(c) for c in np.clip(floor * rng.uniform(0.6, 0.8), 0, 255))
    for k in range(-12, 13):
        cv2.line(img, (vx, horizon), (vx + k * w // 6, h), line, max(1, w // 640), cv2.LINE_AA)
    y, step = horizon, 6
    while y < h:
        cv2.line(img, (0, y), (w, y), line, 1, cv2.LINE_AA)
        y += step
        step = int(step * 1.35) + 1


def _wall_features(rng, img, horizon):
    """Doors, windows and posters on the wall, and the skirting board."""
    h, w = img.shape[:2]
    for _ in range(rng.randint(3, 8)):
        pw, ph = int(w * rng.uniform(0.04, 0.15)), int(horizon * rng.uniform(0.3, 0.9))
        px, py = rng.randint(0, max(1, w - pw)), rng.randint(0, max(1, horizon - ph))
        col = (240, 240, 230) if rng.rand() < 0.25 else rand_color(rng)
        cv2.rectangle(img, (px, py), (px + pw, py + ph), col, -1)
        cv2.rectangle(img, (px, py), (px + pw, py + ph), rand_color(rng, 0, 90),
                      max(1, w // 400))
    cv2.rectangle(img, (0, horizon - max(2, h // 80)), (w, horizon), rand_color(rng, 0, 120), -1)


def _props(rng, img, horizon):
    """Person-like distractors standing on the floor: plants, coat stands, signs, bins."""
    h, w = img.shape[:2]
    props = []
    for _ in range(rng.randint(3, 7)):
        fy = rng.uniform(horizon + 20, h * 0.97)
        ph = (fy - horizon) * rng.uniform(0.3, 0.55) * h / max(1, (h - horizon)) + 12
        fx = rng.uniform(0.05, 0.95) * w
        props.append((fy, fx, ph, rng.randint(4), rand_color(rng), rand_color(rng)))
    for fy, fx, ph, kind, c1, c2 in sorted(props):  # far ones first
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


def _occluders(rng, w, h) -> list:
    """Foreground occluders drawn over people: a counter and pillars."""
    occluders = []
    if rng.rand() < 0.8:
        cy = int(h * rng.uniform(0.72, 0.9))
        cx1 = int(w * rng.uniform(0.0, 0.5))
        occluders.append(('rect', (cx1, cy, cx1 + int(w * rng.uniform(0.2, 0.4)), h),
                          rand_color(rng)))
    for _ in range(rng.randint(0, 3)):
        px = int(w * rng.uniform(0.05, 0.95))
        occluders.append(('rect', (px, 0, px + int(w * rng.uniform(0.03, 0.06)), h),
                          rand_color(rng, 80, 230)))
    return occluders


def make_scene(rng, w: int, h: int) -> Scene:
    """The static background, occluders and lighting of one camera."""
    img, horizon, floor = _room(rng, w, h)
    _floor_tiles(rng, img, horizon, floor)
    _wall_features(rng, img, horizon)
    _props(rng, img, horizon)
    occluders = _occluders(rng, w, h)
    light = dict(gain=rng.uniform(0.65, 1.25), cast=rng.uniform(0.85, 1.15, 3),
                 vignette=rng.uniform(0.0, 0.45), noise=rng.uniform(2.0, 7.0))
    return Scene(img=img, horizon=horizon, occluders=occluders, light=light)


def shading(light: dict, w: int, h: int) -> np.ndarray:
    """Per-pixel gain: vignette, exposure and colour cast, ``(h, w, 3)`` float32."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    d = np.sqrt(((xx - w / 2) / (w / 2))**2 + ((yy - h / 2) / (h / 2))**2) / np.sqrt(2)
    vign = (1.0 - light['vignette'] * d**2)[..., None]
    return (vign * light['gain'] * light['cast'][None, None]).astype(np.float32)


def expose(rng, img: np.ndarray, shade: np.ndarray, noise: float) -> np.ndarray:
    """One exposure of the drawn frame: shading, flicker and sensor noise."""
    out = img.astype(np.float32) * shade * rng.uniform(0.95, 1.05)
    out += rng.normal(0, noise, out.shape).astype(np.float32)
    return np.clip(out, 0, 255).astype(np.uint8)
