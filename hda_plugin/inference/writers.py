"""What ``tools/infer.py`` writes, as frames come (nothing is held per frame):

* ``DIR/hda_detections/NAME/cameraNN/Detections/allD.txt`` per camera, with the writer of
  ``tools/test.py --hda-detections`` (:class:`~hda_plugin.fileio.alld.AllDWriter`);
* ``DIR/hda_detections/NAME/coco_results.json``, the COCO-style results of every input
  (``image_id = camera * 100000 + frame``, ``file_name`` the image file or ``video#frame``);
* with ``--video``, ``DIR/videos/<input>.mp4``: the frames with boxes and scores drawn
  (H.264 through PyAV).

Every file appears under its name only when complete (written as ``<name>.part<pid>``, then
renamed); what an interrupted input produced before its defect is committed.
"""
import contextlib
import json
import os.path as osp
from typing import Optional

import numpy as np

from ..fileio.atomic import PARTIAL_SUFFIX, atomic_open
from ..fileio.coco_results import coco_record
from ..structures import Detections

__all__ = ['CocoWriter', 'VideoWriter', 'draw_detections']


class CocoWriter:
    """A JSON array of COCO-style results, streamed."""

    def __init__(self, path: str):
        self.path, self.count = path, 0
        self._stack = contextlib.ExitStack()
        self._f = self._stack.enter_context(atomic_open(path, 'w'))
        self._f.write('[')

    def write(self, cam: int, frame: int, file_name: str, boxes_xywh: np.ndarray,
              scores: np.ndarray) -> None:
        for box, score in zip(boxes_xywh.tolist(), scores.tolist()):
            self._f.write((',\n' if self.count else '\n') + json.dumps(
                coco_record(cam, frame, file_name, box, score)))
            self.count += 1

    def close(self) -> None:
        self._f.write('\n]\n')
        self._stack.close()


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


class VideoWriter:
    """An H.264 ``.mp4`` (``yuv420p``, frames cropped to even sizes) written frame by frame
    with PyAV; the file gets its name when :meth:`close` succeeds."""

    def __init__(self, path: str, fps: float, codec: str = 'libx264',
                 options: Optional[dict] = None, container_options: Optional[dict] = None):
        import os
        from fractions import Fraction

        import av
        os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
        self.path, self.frames = path, 0
        self._tmp = f'{path}{PARTIAL_SUFFIX}{os.getpid()}'
        self._container = av.open(self._tmp, 'w', format='mp4',
                                  options=container_options or {})
        self._stream = self._container.add_stream(
            codec, rate=Fraction(fps).limit_denominator(1000), options=options or {})
        self._size = None

    def write(self, img: np.ndarray) -> None:
        import av
        h, w = img.shape[:2]
        if self._size is None:
            self._size = (w - w % 2, h - h % 2)
            self._stream.width, self._stream.height = self._size
            # libx264rgb (lossless RGB H.264, used by the tests) takes the BGR frames as
            # they are; the others get the yuv420p players expect
            self._stream.pix_fmt = 'bgr24' if self._stream.codec_context.name == \
                'libx264rgb' else 'yuv420p'
        w2, h2 = self._size
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img[:h2, :w2]), format='bgr24')
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self.frames += 1

    def close(self) -> None:
        import os
        for packet in self._stream.encode():
            self._container.mux(packet)
        self._container.close()
        os.replace(self._tmp, self.path)
