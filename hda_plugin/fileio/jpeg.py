"""Image decoding for the data pipeline: JPEG through libjpeg-turbo (``simplejpeg``),
optionally downscaled by 2, 4 or 8 inside the decoder (DCT-domain scaling), anything else
through OpenCV. Decoding is by content (the JPEG SOI marker), whatever a name says.

Measured on the 2-core reference machine, one thread, synthetic HDA frames: ``simplejpeg``
1.1 / 4.3 / 12.9 ms against ``cv2.imdecode``'s 1.9 / 7.1 / 27.0 ms at 640x480 / 1280x800 /
2560x1600 (``benchmarks/benchmark_pipeline.py`` prints the figures of its run).
"""
import struct
from typing import Optional, Tuple

import numpy as np

__all__ = ['is_jpeg', 'is_png', 'image_shape', 'encoded_shape', 'decode_bgr', 'JPEG_SCALES']

#: Downscale factors libjpeg-turbo's DCT scaling offers that keep the aspect (1/1..1/8).
JPEG_SCALES = (1, 2, 4, 8)

_PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'


def is_jpeg(data: bytes) -> bool:
    return data[:2] == b'\xff\xd8'


def is_png(data: bytes) -> bool:
    return data[:8] == _PNG_SIGNATURE


def encoded_shape(data: bytes) -> Optional[Tuple[int, int]]:
    """``(h, w)`` a JPEG or PNG declares in its header (SOF; IHDR), read without decoding;
    None for other formats. What a decoder would allocate, to be checked before it does:
    a 1.6 KB JPEG whose SOF says 12000x12000 decodes to 412 MiB.

    Raises:
        ValueError: a JPEG or PNG whose header does not parse.
    """
    if is_jpeg(data):
        return image_shape(data)
    if is_png(data):
        # the first chunk is IHDR: length 13, type, width and height big-endian
        if len(data) < 24 or data[12:16] != b'IHDR':
            raise ValueError(f'PNG of {len(data)} bytes without an IHDR chunk first')
        w, h = struct.unpack('>II', data[16:24])
        return h, w
    return None


def image_shape(data: bytes) -> Optional[Tuple[int, int]]:
    """``(h, w)`` of a JPEG from its header (no decoding), None for other formats."""
    if not is_jpeg(data):
        return None
    import simplejpeg
    h, w, _, _ = simplejpeg.decode_jpeg_header(data)
    return h, w


def decode_bgr(data: bytes, factor: int = 1, name: str = '<bytes>') -> np.ndarray:
    """``(h, w, 3)`` BGR ``uint8``; a JPEG decoded at ``1/factor`` of its size
    (``factor`` in :data:`JPEG_SCALES`; the size is ``ceil(w / factor)`` as libjpeg's),
    other formats (PNG, BMP, ...) at full size with OpenCV. A clear error naming ``name``
    when the bytes do not decode."""
    if is_jpeg(data):
        import simplejpeg
        try:
            if factor == 1:
                return simplejpeg.decode_jpeg(data, colorspace='BGR')
            h, w, _, _ = simplejpeg.decode_jpeg_header(data)
            # the smallest DCT scale that is at least 1/factor of each side: 1/factor
            return simplejpeg.decode_jpeg(data, colorspace='BGR', min_height=-(-h // factor),
                                          min_width=-(-w // factor))
        except ValueError as e:
            raise ValueError(f'{name}: {len(data)} bytes do not decode as JPEG ({e}); the '
                             'file is truncated or corrupt.') from None
    import cv2
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError(f'{name}: {len(data)} bytes do not decode as an image (JPEG, PNG, '
                         '...); the file is truncated or corrupt.')
    return img
