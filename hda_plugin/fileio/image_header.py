"""The size an image file declares, read from its header without decoding it: what a data
set checks its annotations against when it is built (a PNG's IHDR lies in its first 24
bytes, a JPEG's SOF after its APP segments, usually within the first 64 KiB)."""
from typing import Tuple

from .jpeg import encoded_shape, is_jpeg

__all__ = ['read_image_shape', 'HEADER_BYTES']

#: Bytes read first; a JPEG whose SOF lies further is read whole.
HEADER_BYTES = 1 << 16


def read_image_shape(path: str) -> Tuple[int, int]:
    """``(h, w)`` of a JPEG or PNG file from its header (no pixel decoded).

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: the file is empty, not a JPEG or PNG, or its header does not parse;
            the message names ``path``.
    """
    with open(path, 'rb') as f:
        head = f.read(HEADER_BYTES)
        try:
            shape = encoded_shape(head)
        except ValueError as e:
            if not (is_jpeg(head) and len(head) == HEADER_BYTES):
                raise ValueError(f'{path}: the image header does not parse ({e}); the file is '
                                 'truncated or corrupt: copy it again.') from None
            shape = None  # the SOF lies beyond the bytes read
            try:
                shape = encoded_shape(head + f.read())
            except ValueError as e2:
                raise ValueError(f'{path}: the JPEG header does not parse ({e2}); the file is '
                                 'truncated or corrupt: copy it again.') from None
    if shape is None:
        what = 'an empty file' if not head else f'bytes {head[:8]!r}'
        raise ValueError(f'{path}: expected a JPEG or PNG image, found {what}; the file is '
                         'not an image of the release (or was cut short): copy it again.')
    return shape
