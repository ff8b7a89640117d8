"""Tiled (sliced) inference for frames much larger than the network input.

A frame is cut into overlapping tiles of the network's input size (``sahi.slicing``'s
``get_slice_bboxes``, as ``demo/large_image_demo.py`` of MMDetection does; SAHI is the
optional ``tile`` extra), each tile and the whole frame (resized, as without tiles) go
through the detector, and the boxes are shifted back and merged by class-wise NMS, keeping
at most the model's ``max_per_img`` (what one untiled pass keeps), as
``mmdet.utils.large_image.merge_results_by_nms`` followed by ``[:max_per_img]`` would,
in time that grows with the boxes kept rather than the boxes merged (:func:`capped_nms`).

``--tile auto`` tiles a frame only when the smallest person of interest would be too small
for the smallest anchor once the frame is resized to the input: a box of height
``min_person_height`` (default 40 px, the smallest detection the HDA benchmark keeps) and
aspect 0.41, scaled as the config's test ``Resize`` scales the frame, reaches an IoU below
the assigner's ``pos_iou_thr`` with every anchor of the finest level (it could never be a
positive in training, nor be found at test time).
"""
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np

from ..structures import (
    MIN_PERSON_HEIGHT,
    PERSON_ASPECT,
    Detections,
    best_centred_anchor_iou,
    resize_factors,
)

__all__ = ['TilePlan', 'plan_tiles', 'merge_tiles', 'capped_nms', 'parse_tile_arg',
           'MAX_TILES', 'MIN_TILE', 'TileLimitError']

#: Most tiles one frame is cut into (``--max-tiles`` raises it). The demo model at
#: HDA's 2560x1600 needs 90, SSD-512 24; ``--tile 16x16`` on a 640x480 frame would be
#: 1,813 passes a frame (minutes each on a CPU), a 12000x12000 frame 3,149 under
#: ``--tile auto``: refused, not capped (a cap would leave part of the frame unseen).
MAX_TILES = 256

#: Smallest ``--tile`` side, pixels.
MIN_TILE = 16


class TileLimitError(ValueError):
    """A frame would be cut into more tiles than allowed."""


@dataclass
class TilePlan:
    """How one frame size is processed: ``tiles`` ``[x1, y1, x2, y2]`` (empty: whole frame
    only) and the reason, printed in the summary."""
    frame_size: Tuple[int, int]  # (w, h)
    tiles: List[List[int]]
    reason: str

    @property
    def tiled(self) -> bool:
        return bool(self.tiles)


def parse_tile_arg(value: str):
    """``auto`` / ``off`` / ``WxH`` (tile size in frame pixels)."""
    v = value.strip().lower()
    if v in ('auto', 'off'):
        return v
    try:
        w, h = (int(p) for p in v.split('x'))
    except ValueError:
        raise ValueError(f'--tile {value!r}: expected auto, off or WxH such as 512x512.') from None
    if w < MIN_TILE or h < MIN_TILE:
        raise ValueError(f'--tile {value!r}: tiles of at least {MIN_TILE}x{MIN_TILE} pixels '
                         'expected (the network input size, e.g. 512x512, is the usual '
                         'choice).')
    return (w, h)


def plan_tiles(mode, frame_wh: Tuple[int, int], input_wh: Tuple[int, int],
               resize: Optional[dict], anchors_wh: np.ndarray, pos_iou_thr: float,
               min_person_height: float = MIN_PERSON_HEIGHT,
               overlap: float = 0.2, max_tiles: int = MAX_TILES) -> TilePlan:
    """The tiles of one frame size under ``--tile`` ``mode`` (``auto``, ``off``, ``(w, h)``);
    :class:`TileLimitError` when they would number more than ``max_tiles`` (0: no limit)."""
    w, h = frame_wh
    if mode == 'off':
        return TilePlan(frame_wh, [], '--tile off')
    if mode == 'auto':
        sx, sy = resize_factors(resize, w, h)
        person = (PERSON_ASPECT * min_person_height * sx, min_person_height * sy)
        iou = best_centred_anchor_iou(person, anchors_wh)
        why = (f'a {min_person_height:g} px person becomes {person[0]:.1f}x{person[1]:.1f} px '
               f'at the input; best IoU with the smallest anchors {iou:.2f}')
        if iou >= pos_iou_thr:
            return TilePlan(frame_wh, [], f'not tiled: {why} >= pos_iou_thr {pos_iou_thr:g}')
        tile_wh = input_wh
        why = f'tiled: {why} < pos_iou_thr {pos_iou_thr:g}'
    else:
        tile_wh, why = tuple(mode), f'--tile {mode[0]}x{mode[1]}'
    tw, th = min(tile_wh[0], w), min(tile_wh[1], h)
    if (tw, th) == (w, h):
        return TilePlan(frame_wh, [], f'not tiled: the frame is no larger than a {tw}x{th} tile')
    # a lower bound of SAHI's count (its step is the tile less the overlap), checked before
    # SAHI lists the tiles: a huge frame with tiny tiles would be millions of them
    step_w, step_h = max(1, tw - int(overlap * tw)), max(1, th - int(overlap * th))
    estimate = (-(-max(w - tw, 0) // step_w) + 1) * (-(-max(h - th, 0) // step_h) + 1)
    if max_tiles and estimate > max_tiles:
        _too_many(estimate, frame_wh, (tw, th), why, max_tiles)
    from ..utils.extras import require
    slicing = require('sahi.slicing', 'tile', f'Tiled inference (--tile; {why})')
    tiles = slicing.get_slice_bboxes(h, w, slice_height=th, slice_width=tw,
                                     auto_slice_resolution=False,
                                     overlap_height_ratio=overlap, overlap_width_ratio=overlap)
    if max_tiles and len(tiles) > max_tiles:
        _too_many(len(tiles), frame_wh, (tw, th), why, max_tiles)
    return TilePlan(frame_wh, [list(map(int, t)) for t in tiles],
                    f'{why}: {len(tiles)} tiles of {tw}x{th} + the whole frame')


def _too_many(n: int, frame_wh, tile_wh, why: str, max_tiles: int):
    raise TileLimitError(
        f'{frame_wh[0]}x{frame_wh[1]} frames would be cut into {n} tiles of '
        f'{tile_wh[0]}x{tile_wh[1]} ({why}), more than the limit of {max_tiles} tiles per '
        f'frame (each tile is one more pass of the network). Use larger tiles (--tile WxH), '
        f'--tile off, or, if the frame size is real, --max-tiles {n}.')


def merge_tiles(whole: Detections, tiles: Sequence[Detections], plan: TilePlan,
                iou_thr: float, max_per_img: int) -> Detections:
    """The whole frame's and its tiles' detections in frame pixels (tile boxes shifted by
    the tile's corner), merged by class-wise NMS at ``iou_thr``: the ``max_per_img`` best
    boxes kept (all when ``max_per_img <= 0``), highest score first."""
    dets = [whole, *tiles]
    offsets = [(0, 0)] + [(t[0], t[1]) for t in plan.tiles]
    if len(dets) != len(offsets):
        raise ValueError(f'{len(tiles)} tile results for a plan of {len(plan.tiles)} tiles.')
    if sum(len(d) for d in dets) == 0:
        return Detections.empty()
    boxes = np.concatenate([d.boxes.reshape(-1, 4) + np.array([x, y, x, y], np.float32)
                            for d, (x, y) in zip(dets, offsets)]).astype(np.float32)
    scores = np.concatenate([d.scores for d in dets]).astype(np.float32)
    labels = np.concatenate([d.labels for d in dets]).astype(np.int64)
    keep = capped_nms(boxes, scores, labels, iou_thr, max_per_img)
    return Detections(boxes, scores, labels).select(keep)


def _classwise_nms(boxes: np.ndarray, labels: np.ndarray, iou_thr: float) -> np.ndarray:
    """Kept indices, ascending, of greedy NMS per class over boxes already in visiting
    order (mmcv's ``nms``, the operator of ``batched_nms``, given descending ranks in place
    of the scores, so that its own sort cannot reorder equal scores)."""
    import torch
    from mmcv.ops import nms
    ranks = np.arange(len(boxes), 0, -1, dtype=np.float32)  # exact below 2**24 boxes
    kept = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        _, k = nms(torch.from_numpy(boxes[idx]), torch.from_numpy(ranks[idx]), iou_thr)
        kept.append(idx[k.numpy()])
    return np.sort(np.concatenate(kept))


def capped_nms(boxes: np.ndarray, scores: np.ndarray, labels: np.ndarray, iou_thr: float,
               max_num: int) -> np.ndarray:
    """Indices of the first ``max_num`` boxes (highest score first) that class-wise greedy
    NMS keeps: the same as NMS over all boxes, then ``[:max_num]`` (all when
    ``max_num <= 0``), in time that grows with the boxes it has to look at.

    Why a prefix suffices: greedy NMS visits boxes by descending score and keeps a box
    unless a box it kept before, of the same class, overlaps it above ``iou_thr``; whether
    a box is kept depends only on the boxes visited before it. NMS over the ``k`` first
    boxes therefore keeps exactly those of the full run's kept boxes that are among them,
    and once they number ``max_num`` they are the full run's first ``max_num`` (every box
    left out comes later). The prefix doubles until that holds or it is everything.

    Equal scores are visited in input order (a stable sort; for a tiled frame the whole
    frame first, then the tiles in plan order), in every prefix alike: which of two tied
    boxes survives never depends on the prefix, nor on how an NMS kernel sorts ties.
    """
    n = len(scores)
    if n == 0:
        return np.zeros(0, np.int64)
    if n >= 1 << 24:
        raise ValueError(f'{n} boxes: capped_nms ranks them in float32 (below 2**24).')
    order = np.argsort(-scores, kind='stable')
    boxes, labels = np.ascontiguousarray(boxes[order]), labels[order]
    k = n if max_num <= 0 else min(n, 2 * max_num)
    while True:
        keep = _classwise_nms(boxes[:k], labels[:k], iou_thr)
        if k == n or len(keep) >= max_num:
            break
        k = min(n, 2 * k)
    return order[keep[:max_num] if max_num > 0 else keep]
