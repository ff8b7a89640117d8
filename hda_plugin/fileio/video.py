"""H.264 ``.mp4`` files written frame by frame with PyAV (FFmpeg), atomically.

PyAV is the optional ``video`` extra (``pip install 'hda-ssd[video]'``): it is imported
when a writer is made, not with this module.
"""
import contextlib
from fractions import Fraction
from typing import Optional

import numpy as np

from .atomic import AtomicWriter

__all__ = ['VideoWriter']


def _av():
    from ..utils.extras import require  # lazily: hda_plugin.utils imports MMEngine
    return require('av', 'video', 'Writing videos (tools/infer.py --video)')


class VideoWriter(AtomicWriter):
    """An H.264 ``.mp4`` (``yuv420p``, frames cropped to even sizes) written frame by frame.

    An :class:`~.atomic.AtomicWriter`: the container is written as ``path.part<pid>`` and
    gets its name at :meth:`commit` (encoder flushed, trailer written, file fsynced);
    :meth:`abort` closes the container and removes the staged file.

    Args:
        path: the ``.mp4`` to write.
        fps: frames per second.
        codec: FFmpeg encoder (``libx264``; the tests use lossless ``libx264rgb``).
        options: encoder options (``dict(qp='0', preset='ultrafast')``).
        container_options: muxer options (``dict(movflags='faststart')``).
    """

    def __init__(self, path: str, fps: float, codec: str = 'libx264',
                 options: Optional[dict] = None, container_options: Optional[dict] = None):
        av = _av()
        super().__init__(path)
        self.frames, self._size, self._container = 0, None, None
        try:
            self._container = av.open(self.staged, 'w', format='mp4',
                                      options=container_options or {})
            self._stream = self._container.add_stream(
                codec, rate=Fraction(fps).limit_denominator(1000), options=options or {})
        except BaseException:
            self.abort()
            raise

    def write(self, img: np.ndarray) -> None:
        """One BGR ``uint8`` frame; the first one fixes the video's size."""
        av = _av()
        h, w = img.shape[:2]
        if self._size is None:
            if w < 2 or h < 2:  # cropped to even sizes it would be 0 pixels: PyAV IndexError
                raise ValueError(f'{self.path}: the first frame is {w}x{h} pixels; an H.264 '
                                 'video needs frames of at least 2x2.')
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

    def _close_staged(self) -> None:
        try:
            for packet in self._stream.encode():  # what the encoder still holds
                self._container.mux(packet)
        finally:
            self._container.close()

    def _discard_staged(self) -> None:
        # No flush: an encoder that never saw a frame has no size and cannot be flushed.
        if self._container is not None:
            with contextlib.suppress(Exception):
                self._container.close()
