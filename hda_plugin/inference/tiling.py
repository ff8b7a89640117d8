"""Tiled (sliced) inference for frames much larger than the network input.

A frame is cut into overlapping tiles of the network's input size (``sahi.slicing``'s
``get_slice_bboxes``, as ``demo/large_image_demo.py`` of MMDetection does), each tile and
the whole frame (resized, as without tiles) go through the detector, and the boxes are
shifted back and merged by class-wise NMS with MMDetection's
``mmdet.utils.large_image.merge_results_by_nms``.

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

__all__ = ['TilePlan', 'plan_tiles', 'merge_tiles', 'parse_tile_arg']



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
    if w < 16 or h < 16:
        raise ValueError(f'--tile {value!r}: tiles of at least 16x16 pixels expected.')
    return (w, h)




def plan_tiles(mode, frame_wh: Tuple[int, int], input_wh: Tuple[int, int],
               resize: Optional[dict], anchors_wh: np.ndarray, pos_iou_thr: float,
               min_person_height: float = MIN_PERSON_HEIGHT,
               overlap: float = 0.2) -> TilePlan:
    """The tiles of one frame size under ``--tile`` ``mode`` (``auto``, ``off``, ``(w, h)``)."""
    from sahi.slicing import get_slice_bboxes
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
    tiles = get_slice_bboxes(h, w, slice_height=th, slice_width=tw, auto_slice_resolution=False,
                             overlap_height_ratio=overlap, overlap_width_ratio=overlap)
    return TilePlan(frame_wh, [list(map(int, t)) for t in tiles],
                    f'{why}: {len(tiles)} tiles of {tw}x{th} + the whole frame')


def merge_tiles(whole: Detections, tiles: Sequence[Detections], plan: TilePlan,
                iou_thr: float) -> Detections:
    """The whole frame's and its tiles' detections in frame pixels, merged by class-wise
    NMS (``mmdet.utils.large_image.merge_results_by_nms``)."""
    import torch
    from mmdet.structures import DetDataSample
    from mmdet.utils.large_image import merge_results_by_nms
    from mmengine.structures import InstanceData
    samples, offsets = [], [(0, 0)] + [(t[0], t[1]) for t in plan.tiles]
    for d in [whole, *tiles]:
        s = DetDataSample()
        s.pred_instances = InstanceData(bboxes=torch.from_numpy(d.boxes).reshape(-1, 4),
                                        scores=torch.from_numpy(d.scores),
                                        labels=torch.from_numpy(d.labels))
        samples.append(s)
    if sum(len(d) for d in [whole, *tiles]) == 0:
        return Detections.empty()
    w, h = plan.frame_size
    merged = merge_results_by_nms(samples, offsets, src_image_shape=(h, w),
                                  nms_cfg=dict(type='nms', iou_threshold=iou_thr)).pred_instances
    return Detections(merged.bboxes.numpy().astype(np.float32),
                      merged.scores.numpy().astype(np.float32),
                      merged.labels.numpy().astype(np.int64))
