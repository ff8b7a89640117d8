"""Reader and writer for Norpix StreamPix ``.seq`` videos, as used by the HDA release.

Header (1024 bytes, little-endian), as read by ``seqReaderPlugin.m``:

=======  ==========  ==========================================
offset   type        field
=======  ==========  ==========================================
0        uint32      magic ``0xFEED``
4        utf-16 x10  ``'Norpix seq'``
28       int32       version
32       uint32      header size (1024)
36       512 bytes   description (utf-16)
548      uint32 x9   width, height, bit depth, real bit depth, image size in
                     bytes, image format, frame count, (unused), true image size
584      float64     frames per second
=======  ==========  ==========================================

Image format codes: 100/200 raw (8-bit grey / 24-bit BGR), 102/201 JPEG, 1/2 PNG.
A compressed frame is ``uint32 size`` (counting those 4 bytes), the encoded image,
then a timestamp (``int32`` seconds, ``uint16`` ms) and padding: 8 bytes in total
(StreamPix's own files) or 16 (the Piotr toolbox's writer). The layout is told
apart at the second frame: a zero where that frame's size should be means 16.
"""
import struct
from dataclasses import dataclass
from typing import Iterator, List, Optional, Tuple

import numpy as np

from .jpeg import encoded_shape, is_jpeg

__all__ = ['SeqFormatError', 'SeqHeader', 'SeqReader', 'parse_seq_header', 'read_seq_header',
           'write_seq', 'SEQ_RAW', 'SEQ_JPEG', 'SEQ_PNG']

SEQ_RAW = (100, 200)
SEQ_JPEG = (102, 201)
SEQ_PNG = (1, 2)
_MAGIC = 0xFEED
_HEADER_SIZE = 1024
#: Largest width or height accepted from a header (HDA's largest camera is 2560x1600).
MAX_SIDE = 32768


class SeqFormatError(ValueError):
    """A ``.seq`` file that is not what its header says, naming file and frame/offset."""


@dataclass(frozen=True)
class SeqHeader:
    """What the 1024-byte header of a ``.seq`` file says (:func:`read_seq_header`)."""
    path: str
    file_size: int
    version: int
    header_size: int
    description: str
    width: int
    height: int
    bit_depth: int
    bit_depth_real: int
    image_size_bytes: int
    image_format: int
    num_frames: int
    true_image_size: int
    fps: float

    @property
    def codec(self) -> str:
        """``'jpg'``, ``'png'`` or ``'raw'``."""
        return _codec(self.image_format)


def _codec(image_format: int) -> str:
    if image_format in SEQ_JPEG:
        return 'jpg'
    if image_format in SEQ_PNG:
        return 'png'
    return 'raw'


def parse_seq_header(h: bytes, path: str, file_size: int) -> SeqHeader:
    """The header of ``path`` from its first 1024 bytes ``h``, checked: magic and name,
    a known image format, sizes in range (raw frames: their byte size) before anything is
    allocated from them. :class:`SeqFormatError` names the file and byte offsets."""
    if file_size < _HEADER_SIZE or len(h) < _HEADER_SIZE:
        raise SeqFormatError(
            f'{path}: {file_size} bytes, shorter than the 1024-byte Norpix '
            'header: the file is truncated or not a .seq video.')
    magic = struct.unpack_from('<I', h, 0)[0]
    name = h[4:24].decode('utf-16-le', errors='replace')
    if magic != _MAGIC or name != 'Norpix seq':
        raise SeqFormatError(
            f'{path}: bad header: expected magic 0xFEED and "Norpix seq", got '
            f'0x{magic:X} and {name!r}. Is this a Norpix StreamPix .seq file?')
    version, header_size = struct.unpack_from('<iI', h, 28)
    description = h[36:548].decode('utf-16-le', errors='replace').rstrip('\x00')
    (width, height, bit_depth, bit_depth_real, image_size_bytes, image_format, num_frames, _,
     true_image_size) = struct.unpack_from('<9I', h, 548)
    fps = struct.unpack_from('<d', h, 584)[0]
    known = SEQ_RAW + SEQ_JPEG + SEQ_PNG
    if image_format not in known:
        raise SeqFormatError(
            f'{path}: image format code {image_format} is not supported '
            f'(expected one of {known}: raw, JPEG or PNG).')
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        raise SeqFormatError(
            f'{path}: header width x height (byte offsets 548, 552) is '
            f'{width}x{height}; expected 1..{MAX_SIDE} each. The header is '
            'corrupt; re-copy the file from the release.')
    if _codec(image_format) == 'raw':
        want = width * height * (bit_depth // 8)
        if bit_depth not in (8, 24) or image_size_bytes != want:
            raise SeqFormatError(
                f'{path}: raw frames of {width}x{height} at {bit_depth} '
                f'bits (byte offsets 548-556) are {want} bytes, but the header\'s image size '
                f'(byte offset 564) says {image_size_bytes}; expected 8- or 24-bit '
                'frames of width x height x channels bytes. The header is corrupt.')
    return SeqHeader(str(path), file_size, version, header_size, description, width, height,
                     bit_depth, bit_depth_real, image_size_bytes, image_format, num_frames,
                     true_image_size, fps)


class SeqReader:
    """Random access to the frames of a Norpix ``.seq`` file.

    Args:
        path (str): the ``.seq`` file.
        strict (bool): raise :class:`SeqFormatError` when the file holds fewer
            complete frames than the header's frame count. When False, the
            readable frames are kept and ``truncated_at`` tells where reading
            stopped (and why, in ``truncation_reason``). Defaults to True.
    """

    def __init__(self, path: str, strict: bool = True):
        self.path = str(path)
        self._f = open(self.path, 'rb')
        self._f.seek(0, 2)
        self.file_size = self._f.tell()
        self.truncated_at: Optional[int] = None
        self.truncation_reason = ''
        self._read_header()
        self.seek_table: List[Tuple[int, int]] = self._build_seek_table(strict)

    # -- header ---------------------------------------------------------------------------
    def _read_header(self):
        self._f.seek(0)
        header = parse_seq_header(self._f.read(_HEADER_SIZE), self.path, self.file_size)
        for name in SeqHeader.__dataclass_fields__:
            if name not in ('path', 'file_size'):
                setattr(self, name, getattr(header, name))

    @property
    def codec(self) -> str:
        return _codec(self.image_format)

    # -- seek table -----------------------------------------------------------------------
    def _truncate(self, strict, index, offset, why):
        msg = (f'{self.path}: frame {index} (0-based) at byte offset {offset}: {why}. The header '
               f'declares {self.num_frames} frames, {index} are complete. The file is '
               'truncated or corrupt; re-copy it from the release.')
        if strict:
            raise SeqFormatError(msg)
        self.truncated_at, self.truncation_reason = index, msg

    def _build_seek_table(self, strict) -> List[Tuple[int, int]]:
        table = []
        if self.codec == 'raw':
            step = max(self.true_image_size, self.image_size_bytes)
            fit = (self.file_size - _HEADER_SIZE) // step  # > 0-byte frames: bounded by the file
            n = min(self.num_frames, fit)
            table = [(_HEADER_SIZE + i * step, self.image_size_bytes) for i in range(n)]
            if n < self.num_frames:
                self._truncate(strict, n, _HEADER_SIZE + n * step,
                               f'the raw image runs past the end of the file (the file holds '
                               f'{fit} frames of {step} bytes)')
            return table
        extra = 8
        off = _HEADER_SIZE
        for i in range(self.num_frames):
            if off + 4 > self.file_size:
                self._truncate(strict, i, off, 'the frame size field runs past the end of file')
                break
            self._f.seek(off)
            size = struct.unpack('<I', self._f.read(4))[0]
            if i == 1 and size == 0 and table:
                # Toolbox writer: 16 bytes after each image instead of 8 (see module doc).
                extra = 16
                off += 8
                self._f.seek(off)
                size = struct.unpack('<I', self._f.read(4))[0]
            if size <= 4 or off + size > self.file_size:
                self._truncate(strict, i, off,
                               f'frame size field says {size} bytes, but only '
                               f'{self.file_size - off} remain' if size > 4 else
                               f'frame size field is {size}, expected > 4')
                break
            table.append((off + 4, size - 4))
            off += size + extra
        self.padding = extra
        return table

    # -- access ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.seek_table)

    def read_encoded(self, index: int) -> bytes:
        """The stored bytes of frame ``index`` (0-based): JPEG/PNG data, or raw pixels."""
        off, size = self.seek_table[index]
        self._f.seek(off)
        data = self._f.read(size)
        if len(data) != size:
            raise SeqFormatError(f'{self.path}: frame {index} at byte offset {off}: '
                                 f'read {len(data)} of {size} bytes.')
        return data

    def frame_problem(self, data: bytes) -> Optional[str]:
        """Why the encoded frame ``data`` must not be decoded, from its own header (nothing
        is decoded): not the header's codec, or an image size other than the header's
        width x height. None when it may be. A decoder allocates what the image's header
        says: a 1,665-byte frame claiming 12000x12000 took 790 MiB."""
        if self.codec == 'raw':
            return None  # the seek table gives raw frames the header's size exactly
        kind = 'JPEG' if self.codec == 'jpg' else 'PNG'
        try:
            shape = encoded_shape(data)
        except ValueError as e:
            return f'its {len(data)} bytes have no readable {kind} header ({e})'
        if shape is None or (kind == 'JPEG') != is_jpeg(data):
            return f'its {len(data)} bytes do not start with the {kind} signature'
        h, w = shape
        if (h, w) != (self.height, self.width):
            return (f'the {kind} image is {w}x{h}, but the .seq header (byte offsets 548, '
                    f'552) says {self.width}x{self.height}; it was not decoded (that would '
                    f'take {w * h * 3 / 2**20:,.0f} MiB); the video is corrupt or crafted')
        return None

    def read(self, index: int) -> np.ndarray:
        """Frame ``index`` (0-based) decoded to a BGR ``uint8`` array of the header's
        width x height. A compressed frame whose own header says another size (or another
        format) is refused before it is decoded (:meth:`frame_problem`)."""
        import cv2
        data = self.read_encoded(index)
        if self.codec == 'raw':
            ch = max(1, self.bit_depth // 8)
            img = np.frombuffer(data, np.uint8).reshape(self.height, self.width, ch)
            return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR) if ch == 1 else img.copy()
        off = self.seek_table[index][0]
        problem = self.frame_problem(data)
        if problem:
            raise SeqFormatError(f'{self.path}: frame {index} (0-based) at byte offset {off}: '
                                 f'{problem}.')
        img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if img is None:
            raise SeqFormatError(f'{self.path}: frame {index} at byte offset {off}: '
                                 f'{len(data)} bytes do not decode as {self.codec.upper()}.')
        if img.shape[:2] != (self.height, self.width):
            raise SeqFormatError(
                f'{self.path}: frame {index} (0-based) at byte offset {off}: decoded to '
                f'{img.shape[1]}x{img.shape[0]}, but the .seq header says '
                f'{self.width}x{self.height}. The video is corrupt.')
        return img

    def __iter__(self) -> Iterator[np.ndarray]:
        for i in range(len(self)):
            yield self.read(i)

    def close(self):
        self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def write_seq(path: str, frames, codec: str = 'jpg', padding: int = 8, fps: float = 5.0,
              quality: int = 90, description: str = 'hda-ssd') -> int:
    """Writes BGR frames into a Norpix ``.seq`` (JPEG or PNG frames).

    Args:
        path (str): output file.
        frames (Iterable[np.ndarray]): BGR ``uint8`` images of one size.
        codec (str): ``'jpg'`` or ``'png'``. Defaults to ``'jpg'``.
        padding (int): bytes after each image: 8 (StreamPix) or 16 (toolbox writer).
            Defaults to 8.
        fps (float): frames per second in the header. Defaults to 5.0.
        quality (int): JPEG quality. Defaults to 90.
        description (str): header description. Defaults to ``'hda-ssd'``.

    Returns:
        int: number of frames written.
    """
    import cv2
    if codec not in ('jpg', 'png'):
        raise ValueError(f'Unknown codec "{codec}": expected "jpg" or "png".')
    if padding not in (8, 16):
        raise ValueError(f'padding must be 8 or 16 bytes, got {padding}.')
    fmt = 102 if codec == 'jpg' else 1
    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if codec == 'jpg' else []
    n, w, h = 0, 0, 0
    with open(path, 'wb') as f:
        f.write(b'\x00' * _HEADER_SIZE)
        for img in frames:
            if n == 0:
                h, w = img.shape[:2]
            ok, buf = cv2.imencode('.' + codec, img, params)
            if not ok:
                raise RuntimeError(f'cv2.imencode failed for frame {n} of {path}')
            data = buf.tobytes()
            f.write(struct.pack('<I', len(data) + 4))
            f.write(data)
            sec, ms = divmod(n * 1000.0 / fps, 1000.0)
            f.write(struct.pack('<iH', int(sec), int(ms)) + b'\x00' * (padding - 6))
            n += 1
        header = bytearray(_HEADER_SIZE)
        struct.pack_into('<I', header, 0, _MAGIC)
        header[4:24] = 'Norpix seq'.encode('utf-16-le')
        struct.pack_into('<iI', header, 28, 5, _HEADER_SIZE)
        d = description.encode('utf-16-le')[:510]
        header[36:36 + len(d)] = d
        struct.pack_into('<9I', header, 548, w, h, 24, 8, w * h * 3, fmt, n, 0, w * h * 3)
        struct.pack_into('<d', header, 584, fps)
        f.seek(0)
        f.write(bytes(header))
    return n


def read_seq_header(path: str) -> SeqHeader:
    """The header of a ``.seq`` (the first 1024 bytes, checked as :class:`SeqReader` checks
    them) without its seek table: building the seek table reads a size field per frame
    across the whole file; data sets listing frames need only the header."""
    with open(path, 'rb') as f:
        f.seek(0, 2)
        size = f.tell()
        f.seek(0)
        return parse_seq_header(f.read(_HEADER_SIZE), str(path), size)
