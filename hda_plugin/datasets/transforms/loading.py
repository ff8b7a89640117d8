"""``LoadImageFast``: MMCV's ``LoadImageFromFile`` with libjpeg-turbo decoding
(:mod:`hda_plugin.fileio.jpeg`), for extracted frames and for TFRecord images alike (the
``tfrecord://`` file backend hands it the record's ``image/encoded`` bytes).

With ``defer_decode=True`` a JPEG is not decoded here: its bytes and header size go on to
``SSDRandomCropResize``, which decodes it at 1/2, 1/4 or 1/8 of its size in the DCT domain
when the crop is downscaled at least that much anyway.

Frames straight from a Norpix ``.seq`` video (``CaltechDataset``): when ``results`` holds
``seq_frame`` (a 0-based index), ``img_path`` is the video and the bytes are that frame's
(``SeqReader.read_encoded``), checked against the video's header before anything is decoded
(``SeqReader.frame_problem``). Each process keeps a few videos open (:func:`seq_reader`,
keyed by process id and path, so a dataloader worker forked from a parent that had opened
one opens its own file and never shares a file offset).
"""
import os
from collections import OrderedDict

import mmengine.fileio as fileio
from mmcv.transforms import LoadImageFromFile
from mmdet.registry import TRANSFORMS

from ...fileio.jpeg import decode_bgr, image_shape
from ...fileio.seq import SeqFormatError, SeqReader

__all__ = ['LoadImageFast', 'seq_reader']

#: open ``SeqReader``s: ``(pid, path)`` -> reader, least recently used first.
_SEQ_READERS: 'OrderedDict[tuple, SeqReader]' = OrderedDict()
#: videos kept open per process (a Caltech set has up to 19; readers hold a file and a
#: seek table of 8 bytes a frame).
MAX_OPEN_SEQS = 128  # above Caltech's 71 training videos: a shuffled epoch reopens none


def seq_reader(path: str) -> SeqReader:
    """An open :class:`SeqReader` of ``path`` for this process (cached; the least recently
    used closed beyond :data:`MAX_OPEN_SEQS`). Readers of another process id (inherited
    through ``fork``) are dropped without touching their file."""
    pid = os.getpid()
    for key in [k for k in _SEQ_READERS if k[0] != pid]:
        del _SEQ_READERS[key]  # the parent's: its file object is left to the parent
    key = (pid, str(path))
    reader = _SEQ_READERS.get(key)
    if reader is None:
        reader = SeqReader(str(path))
        _SEQ_READERS[key] = reader
        while len(_SEQ_READERS) > MAX_OPEN_SEQS:
            _, old = _SEQ_READERS.popitem(last=False)
            old.close()
    else:
        _SEQ_READERS.move_to_end(key)
    return reader


def _seq_frame_bytes(path: str, index: int) -> bytes:
    reader = seq_reader(path)
    index = int(index)
    if not 0 <= index < len(reader):
        raise SeqFormatError(f'{path}: frame {index} (0-based) requested, the video holds '
                             f'{len(reader)} frames.')
    if reader.codec == 'raw':
        import cv2
        ok, buf = cv2.imencode('.png', reader.read(index))  # rare: raw videos as PNG bytes
        return buf.tobytes()
    data = reader.read_encoded(index)
    problem = reader.frame_problem(data)
    if problem:
        raise SeqFormatError(f'{path}: frame {index} (0-based): {problem}.')
    return data


@TRANSFORMS.register_module()
class LoadImageFast(LoadImageFromFile):
    """``LoadImageFromFile`` (same arguments; colour BGR images) with a faster JPEG decoder.

    Args:
        defer_decode (bool): keep a JPEG's bytes in ``results['img_bytes']`` (and its size in
            ``img_shape`` / ``ori_shape``) for ``SSDRandomCropResize`` to decode. Defaults to
            False.

    With ``results['seq_frame']`` set, ``img_path`` is a ``.seq`` video and the frame is read
    from it (module docstring); ``backend_args`` then do not apply (local files only).
    """

    def __init__(self, defer_decode: bool = False, **kwargs):
        super().__init__(**kwargs)
        if self.color_type != 'color':
            raise ValueError(f'LoadImageFast decodes colour images; color_type='
                             f'{self.color_type!r}: use LoadImageFromFile.')
        self.defer_decode = defer_decode

    def transform(self, results: dict) -> dict:
        filename = results['img_path']
        try:
            if results.get('seq_frame') is not None:
                data = _seq_frame_bytes(filename, results['seq_frame'])
                filename = f'{filename}[frame {int(results["seq_frame"])}]'
            else:
                data = fileio.get(filename, backend_args=self.backend_args)
            shape = image_shape(data) if self.defer_decode else None
            img = None if shape else decode_bgr(data, name=str(filename))
        except Exception:
            if self.ignore_empty:
                return None
            raise
        if shape is not None:
            results['img_bytes'] = data
            results['img_shape'] = results['ori_shape'] = shape
            return results
        if self.to_float32:
            img = img.astype('float32')
        results['img'] = img
        results['img_shape'] = results['ori_shape'] = img.shape[:2]
        return results

    def __repr__(self) -> str:
        return f'{super().__repr__()[:-1]}, defer_decode={self.defer_decode})'
