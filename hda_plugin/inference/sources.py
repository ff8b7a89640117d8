"""Where ``tools/infer.py``'s frames come from: Norpix ``.seq`` videos (the project's reader,
no extraction), video files (PyAV), image folders or globs, and HDA release roots.

Each source yields :class:`Frame` objects one at a time (nothing is read ahead beyond one
frame), numbered from 1 as the vbb annotations and ``allD.txt`` number them. A defect in
the middle of a file raises :class:`FrameSourceError` naming the file and the frame *after*
every frame before it has been yielded, so the caller keeps what was processed.
"""
import glob
import os
import os.path as osp
import re
from dataclasses import dataclass, field
from typing import Iterator, List, Optional, Sequence, Tuple

import numpy as np

from ..fileio.hda_layout import HDA_LAYOUT, camera_name, camera_of, seq_filename
from ..fileio.jpeg import encoded_shape, is_jpeg
from ..fileio.seq import SeqFormatError, SeqReader
from ..utils.extras import require

__all__ = ['Frame', 'FrameSource', 'FrameSourceError', 'SeqSource', 'VideoSource',
           'ImageSource', 'open_inputs', 'VIDEO_EXTENSIONS', 'IMAGE_EXTENSIONS',
           'MAX_FRAME_MPX', 'check_frame_pixels']

VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mov', '.mkv', '.m4v', '.webm', '.mpg', '.mpeg', '.ts')
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
_HDA_FRAME_RE = re.compile(r'^I(\d+)$')  # hda_frames/camNN/I00001.jpg: the vbb frame number


#: Largest frame read, in megapixels (``--max-pixels`` raises it): HDA's largest camera is
#: 4.1 Mpx (2560x1600). A bigger frame is refused before it is decoded, with its file.
MAX_FRAME_MPX = 50.0


class FrameSourceError(ValueError):
    """A frame that cannot be read: the message names the file and the frame."""


def check_frame_pixels(path: str, w: int, h: int, max_mpx: float, what: str = 'frames') -> None:
    """Refuses ``w x h`` frames above ``max_mpx`` megapixels, naming ``path``."""
    if max_mpx and w * h > max_mpx * 1e6:
        raise ValueError(
            f'{path}: {what} of {w}x{h} pixels ({w * h / 1e6:.1f} Mpx), above the limit of '
            f'{max_mpx:g} Mpx per frame (HDA\'s largest camera is 2560x1600, 4.1 Mpx). If the '
            f'size is real, raise the limit with --max-pixels {(w * h / 1e6) + 1:.0f}.')


@dataclass
class Frame:
    """One decoded frame: 1-based ``index``, BGR ``uint8`` ``image``, the ``name`` written
    to the COCO results (image file, or ``video#frame``)."""
    index: int
    image: np.ndarray
    name: str


@dataclass
class FrameSource:
    """Base of the sources: a path, the camera its rows are written under, the frame count
    the file declares (0 when unknown) and its frame rate (for ``--video``)."""
    path: str
    camera: str
    declared: int = 0
    fps: float = 5.0
    skipped: List[str] = field(default_factory=list)  # --skip-bad: what was left out, why

    def input_files(self) -> List[str]:
        """The files this source reads (no output may be one of them)."""
        return [self.path]

    @property
    def name(self) -> str:
        return osp.basename(self.path.rstrip('/')) or self.path

    def __iter__(self) -> Iterator[Frame]:
        raise NotImplementedError


class SeqSource(FrameSource):
    """A Norpix ``.seq`` video read frame by frame with :class:`SeqReader`."""

    def __init__(self, path: str, camera: str, max_mpx: float = MAX_FRAME_MPX):
        reader = SeqReader(path, strict=False)  # a short file raises after its good frames
        try:
            check_frame_pixels(path, reader.width, reader.height, max_mpx,
                               'the header declares frames')
        except ValueError:
            reader.close()
            raise
        super().__init__(path, camera, declared=reader.num_frames,
                         fps=reader.fps if reader.fps > 0 else 5.0)
        self.reader = reader

    def __iter__(self) -> Iterator[Frame]:
        r = self.reader
        try:
            for i in range(len(r)):
                try:
                    img = r.read(i)
                except SeqFormatError as e:
                    raise FrameSourceError(f'{e} That is frame {i + 1} (1-based).') from None
                yield Frame(i + 1, img, f'{self.name}#{i + 1}')
            if r.truncated_at is not None:
                raise FrameSourceError(f'{r.truncation_reason} Frames {r.truncated_at + 1} '
                                       '(1-based) onwards were not read.')
        finally:
            r.close()


def _av():
    return require('av', 'video', 'Reading video files (.mp4, .avi, ... inputs of '
                   'tools/infer.py)')


class VideoSource(FrameSource):
    """A video file (``.mp4``, ``.avi``, ...) decoded with PyAV (FFmpeg, the optional
    ``video`` extra), BGR frames."""

    def __init__(self, path: str, camera: str, max_mpx: float = MAX_FRAME_MPX):
        av = _av()
        try:
            self._container = av.open(path)
        except (av.error.FFmpegError, OSError) as e:
            raise FrameSourceError(
                f'{path}: cannot open the video ({e}). The file is truncated (an .mp4 cut '
                'before its index), not a video, or in a codec FFmpeg lacks.') from None
        if not self._container.streams.video:
            self._container.close()
            raise FrameSourceError(f'{path}: no video stream in the file.')
        stream = self._container.streams.video[0]
        try:
            check_frame_pixels(path, int(stream.width or 0), int(stream.height or 0), max_mpx,
                               'the stream declares frames')
        except ValueError:
            self._container.close()
            raise
        stream.thread_type = 'AUTO'
        rate = float(stream.average_rate or stream.base_rate or 5.0)
        super().__init__(path, camera, declared=int(stream.frames or 0), fps=rate)

    def _upright(self, frame, n: int) -> np.ndarray:
        """The frame as players show it: its display matrix's rotation applied (phones
        store portrait video as landscape frames with a 90 degree rotation)."""
        img = frame.to_ndarray(format='bgr24')
        rot = getattr(frame, 'rotation', 0) or 0  # degrees counterclockwise, [-180, 180]
        if rot % 90:
            raise ValueError(
                f'{self.path}: frame {n} carries a display rotation of {rot} degrees, not a '
                'multiple of 90: it cannot be shown upright without resampling. Re-encode '
                'the video upright (ffmpeg applies the rotation when it re-encodes).')
        return np.ascontiguousarray(np.rot90(img, k=(rot // 90) % 4)) if rot else img

    def __iter__(self) -> Iterator[Frame]:
        av = _av()
        n = 0
        try:
            try:
                for frame in self._container.decode(video=0):
                    n += 1
                    yield Frame(n, self._upright(frame, n), f'{self.name}#{n}')
            except av.error.FFmpegError as e:
                raise FrameSourceError(
                    f'{self.path}: frame {n + 1} (1-based) does not decode ({e}); {n} frames '
                    'before it were read. The file is truncated or corrupt.') from None
            if self.declared and n < self.declared:
                raise FrameSourceError(
                    f'{self.path}: the container declares {self.declared} frames, the stream '
                    f'ended after {n}: frame {n + 1} (1-based) onwards is missing. The file is '
                    'truncated; re-copy or re-encode it.')
        finally:
            self._container.close()


class ImageSource(FrameSource):
    """Image files (a folder or a glob), in name order. Frame numbers come from HDA frame
    names (``I00001.jpg`` is frame 1), otherwise from the position (1, 2, ...)."""

    def __init__(self, path: str, camera: str, files: Sequence[str], skip_bad: bool = False,
                 max_mpx: float = MAX_FRAME_MPX):
        super().__init__(path, camera, declared=len(files))
        self.files, self.skip_bad, self.max_mpx = list(files), skip_bad, max_mpx
        if self.files:  # the first image before any model loads; each one as read
            size = _image_size(self.files[0])
            if size is not None:
                check_frame_pixels(self.files[0], *size, max_mpx, 'the first image is a frame')
        stems = [osp.splitext(osp.basename(f))[0] for f in self.files]
        found = [_HDA_FRAME_RE.match(s) for s in stems]
        self.indices = [int(m.group(1)) for m in found] if all(found) else \
            list(range(1, len(self.files) + 1))

    def __iter__(self) -> Iterator[Frame]:
        import cv2
        for index, f in zip(self.indices, self.files):
            try:
                size = _image_size(f)  # from the header: nothing decoded yet
                if size is not None:
                    check_frame_pixels(f, *size, self.max_mpx, f'frame {index} is an image')
            except ValueError as e:
                if self.skip_bad:
                    self.skipped.append(str(e))
                    continue
                raise FrameSourceError(str(e)) from None
            img = cv2.imread(f, cv2.IMREAD_COLOR)
            if img is None:
                size = osp.getsize(f) if osp.exists(f) else 0
                why = f'{f}: not a readable image ({size} bytes; frame {index})'
                if self.skip_bad:
                    self.skipped.append(why)
                    continue
                raise FrameSourceError(
                    why + '. The file is truncated or not an image: replace it, or pass '
                    '--skip-bad to count and list unreadable images and go on.')
            yield Frame(index, img, f)

    def input_files(self) -> List[str]:
        return list(self.files)


#: Bytes of an image read for its header: PNG's IHDR is in the first 24; a JPEG's SOF
#: follows its APP segments (EXIF, ICC), usually within this; beyond, the whole file is read.
_HEADER_BYTES = 1 << 16


def _image_size(path: str) -> Optional[Tuple[int, int]]:
    """``(w, h)`` an image file declares, nothing decoded: JPEG and PNG from their headers
    (:func:`~hda_plugin.fileio.jpeg.encoded_shape`), other formats through Pillow (which
    reads no pixels either); None when the header does not tell (OpenCV then decides
    whether the file is an image).

    Raises:
        ValueError: Pillow refuses the image as a decompression bomb (more than twice
            ``PIL.Image.MAX_IMAGE_PIXELS``): far above any frame, refused naming the file
            (an unknown size must never skip the ``--max-pixels`` check).
    """
    try:
        with open(path, 'rb') as f:
            head = f.read(_HEADER_BYTES)
            if is_jpeg(head) and len(head) == _HEADER_BYTES:
                try:
                    shape = encoded_shape(head)
                except ValueError:  # the SOF lies beyond the bytes read
                    shape = encoded_shape(head + f.read())
                return (shape[1], shape[0]) if shape else None
    except (OSError, ValueError):
        return None  # unreadable, or a header that does not parse: cv2's error names it
    try:
        shape = encoded_shape(head)
    except ValueError:
        return None
    if shape is not None:
        return shape[1], shape[0]
    from PIL import Image
    try:
        with Image.open(path) as im:
            return im.size
    except Image.DecompressionBombError as e:
        raise ValueError(
            f'{path}: refused before decoding: Pillow reads its header as a decompression '
            f'bomb ({e}), far above any camera frame (HDA\'s largest is 2560x1600, 4.1 Mpx). '
            'If the image is real, convert it to PNG or JPEG, whose size hda-ssd reads from '
            'the header and checks against --max-pixels.') from None
    except Exception:  # not an image Pillow knows, truncated, ...: cv2 decides
        return None


def _images_of(path: str) -> List[str]:
    if osp.isdir(path):
        files = [osp.join(path, f) for f in os.listdir(path)]
    else:
        files = glob.glob(path)
    return sorted(f for f in files if f.lower().endswith(IMAGE_EXTENSIONS) and osp.isfile(f))


def _camera(path: str, camera: Optional[str]) -> str:
    if camera is not None:
        return camera_name(camera)
    cam = camera_of(path)
    if cam == 'all':
        raise ValueError(
            f'{path}: the file name names no camera (as camera17.seq or hda_frames/cam17/ '
            'do), so its allD.txt has no camera number. Give --camera N.')
    return cam


def open_inputs(inputs: Sequence[str], cameras: Optional[Sequence[str]] = None,
                camera: Optional[str] = None, skip_bad: bool = False,
                max_mpx: float = MAX_FRAME_MPX) -> List[FrameSource]:
    """The sources of ``tools/infer.py``'s INPUT arguments, in order.

    Args:
        inputs: ``.seq`` files, video files, image folders or globs, HDA release roots.
        cameras: with a release root, the cameras to read (default: every ``.seq`` there).
        camera: the camera of every input (``--camera``), instead of their file names.
        skip_bad: images that do not decode are counted and listed instead of an error.
        max_mpx: the largest frame read, megapixels (``--max-pixels``; 0: no limit).
    """
    sources: List[FrameSource] = []
    for path in inputs:
        seq_dir = osp.join(path, HDA_LAYOUT['seq'])
        if osp.isdir(seq_dir):  # a release root
            want = [seq_filename(c) for c in cameras] if cameras else sorted(
                f for f in os.listdir(seq_dir) if f.endswith('.seq'))
            for f in want:
                p = osp.join(seq_dir, f)
                if not osp.isfile(p):
                    have = sorted(os.listdir(seq_dir))
                    raise FileNotFoundError(f'{p} does not exist (in {seq_dir}: {have}); check '
                                            '--cameras.')
                sources.append(SeqSource(p, _camera(p, camera), max_mpx))
        elif path.lower().endswith('.seq'):
            if not osp.isfile(path):
                raise FileNotFoundError(f'{path} does not exist.')
            sources.append(SeqSource(path, _camera(path, camera), max_mpx))
        elif path.lower().endswith(VIDEO_EXTENSIONS):
            if not osp.isfile(path):
                raise FileNotFoundError(f'{path} does not exist.')
            sources.append(VideoSource(path, _camera(path, camera), max_mpx))
        else:
            files = _images_of(path)
            if not files:
                raise FileNotFoundError(
                    f'{path}: no .seq, video ({", ".join(VIDEO_EXTENSIONS)}), image '
                    f'({", ".join(IMAGE_EXTENSIONS)}) or release root '
                    f'(with {HDA_LAYOUT["seq"]}/) there.')
            sources.append(ImageSource(path, _camera(path, camera), files, skip_bad,
                                       max_mpx))
    if cameras and not any(osp.isdir(osp.join(p, HDA_LAYOUT['seq'])) for p in inputs):
        raise ValueError('--cameras selects cameras of an HDA release root; no INPUT is one. '
                         'Use --camera N to name the camera of a file.')
    # two inputs of one camera are refused by runner.check_outputs, naming the allD.txt
    return sources
