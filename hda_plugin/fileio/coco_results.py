"""COCO-style detection results (a JSON array of ``image_id, category_id, bbox, score``)
as hda-ssd writes them for HDA frames: one record, and the streamed writer of
``tools/infer.py``'s ``coco_results.json``."""
import json

import numpy as np

from .atomic import AtomicFile

__all__ = ['coco_record', 'CocoWriter']


def coco_record(cam: int, frame: int, file_name: str, box_xywh, score: float) -> dict:
    """One COCO-style result: ``image_id = camera * 100000 + frame`` (1-based frame)."""
    return dict(image_id=cam * 100000 + frame, file_name=file_name, camera=cam, frame=frame,
                category_id=1, bbox=box_xywh, score=score)


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
