"""COCO-style detection results (a JSON array of ``image_id, category_id, bbox, score``)
as hda-ssd writes them for HDA frames: one record, and the streamed writer of
``tools/infer.py``'s ``coco_results.json``."""
import json

import numpy as np

from .atomic import AtomicFile

__all__ = ['coco_record', 'coco_image_id', 'CocoWriter', 'COCO_IMAGE_ID_RULE']

#: The rule of :func:`coco_image_id`, as the tools print it.
COCO_IMAGE_ID_RULE = ('image_id = camera * 100000 + frame for frames below 100,000, '
                      'camera * 10**10 + frame from 100,000 on')

_SMALL, _LARGE, _MAX_CAMERA = 100_000, 10**10, 99_999


def coco_image_id(cam: int, frame: int) -> int:
    """The ``image_id`` of a camera's 1-based frame, unique for any frame count:
    ``camera * 100000 + frame`` for frames 1..99,999 (the rule of every file written
    before, kept so that old and new ids agree), ``camera * 10**10 + frame`` for frames
    100,000..10**10 - 1.

    The two ranges cannot meet: for cameras 1..99,999 the first gives ids below 10**10,
    the second ids of 10**10 and more; within each, (camera, frame) pairs map to distinct
    ids. (``camera * 100000 + frame`` alone made camera 17's frame 100,001 camera 18's
    frame 1.)"""
    cam, frame = int(cam), int(frame)
    if not 1 <= cam <= _MAX_CAMERA:
        raise ValueError(f'camera {cam}: COCO image ids are made for cameras 1..{_MAX_CAMERA}.')
    if not 1 <= frame < _LARGE:
        raise ValueError(f'frame {frame} of camera {cam}: COCO image ids are made for 1-based '
                         f'frames below 10**10.')
    return cam * (_SMALL if frame < _SMALL else _LARGE) + frame


def coco_record(cam: int, frame: int, file_name: str, box_xywh, score: float) -> dict:
    """One COCO-style result; ``image_id`` is :func:`coco_image_id` (``camera * 100000 +
    frame`` for frames below 100,000, ``camera * 10**10 + frame`` from there on: unique for
    any frame count); ``camera`` and ``frame`` are recorded as they are."""
    return dict(image_id=coco_image_id(cam, frame), file_name=file_name, camera=cam,
                frame=frame, category_id=1, bbox=box_xywh, score=score)


class CocoWriter(AtomicFile):
    """A JSON array of :func:`coco_record` results, streamed (nothing held per frame).

    An :class:`~.atomic.AtomicFile`: the array gets its closing bracket and its name at
    :meth:`commit`; :meth:`abort` drops it.
    """

    def __init__(self, path: str):
        super().__init__(path, 'w')
        self.count = 0
        self.file.write('[')

    def write(self, cam: int, frame: int, file_name: str, boxes_xywh: np.ndarray,
              scores: np.ndarray) -> None:
        """One frame's boxes (``x, y, w, h``) and scores."""
        for box, score in zip(np.asarray(boxes_xywh).tolist(), np.asarray(scores).tolist()):
            self.file.write((',\n' if self.count else '\n') + json.dumps(
                coco_record(cam, frame, file_name, box, score)))
            self.count += 1

    def _close_staged(self) -> None:
        self.file.write('\n]\n')
        super()._close_staged()
