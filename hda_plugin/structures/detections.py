"""One image's detections, as inference, tiling, export and the writers pass them on."""
from dataclasses import dataclass

import numpy as np

from .boxes import to_numpy

__all__ = ['Detections']


@dataclass
class Detections:
    """One image's detections: ``boxes`` ``(N, 4)`` float32 x1 y1 x2 y2, ``scores``
    ``(N,)`` float32, ``labels`` ``(N,)`` int64, highest score first."""
    boxes: np.ndarray
    scores: np.ndarray
    labels: np.ndarray

    @classmethod
    def empty(cls) -> 'Detections':
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64))

    @classmethod
    def from_instances(cls, inst) -> 'Detections':
        """From MMDetection's ``pred_instances`` (``InstanceData`` or a dict of tensors)."""
        return cls(to_numpy(inst['bboxes']).reshape(-1, 4).astype(np.float32),
                   to_numpy(inst['scores']).reshape(-1).astype(np.float32),
                   to_numpy(inst['labels']).reshape(-1).astype(np.int64))

    def __len__(self) -> int:
        return len(self.scores)

    def select(self, keep) -> 'Detections':
        """The rows ``keep`` (a mask or indices) selects."""
        return Detections(self.boxes[keep], self.scores[keep], self.labels[keep])
