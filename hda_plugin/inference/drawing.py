"""Boxes and scores drawn on a frame for ``tools/infer.py --video`` (OpenCV: MMEngine's
matplotlib visualizer costs more per frame than the detector). The video file itself is
:class:`hda_plugin.fileio.video.VideoWriter`."""
import numpy as np

from ..structures import Detections

__all__ = ['draw_detections']


def draw_detections(img: np.ndarray, det: Detections, thr: float) -> np.ndarray:
    """``img`` (BGR) with the boxes scoring at least ``thr`` and their scores drawn."""
    import cv2
    out = img.copy()
    t = max(1, round(max(img.shape[:2]) / 640))
    for (x1, y1, x2, y2), s in zip(det.boxes.tolist(), det.scores.tolist()):
        if s < thr:
            continue
        cv2.rectangle(out, (int(x1), int(y1)), (int(x2), int(y2)), (0, 255, 0), t)
        cv2.putText(out, f'{s:.2f}', (int(x1), max(int(y1) - 3, 10)), cv2.FONT_HERSHEY_SIMPLEX,
                    0.4 * t, (0, 255, 0), t, cv2.LINE_AA)
    return out
