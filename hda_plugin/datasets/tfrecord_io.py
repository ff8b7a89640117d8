"""TFRecord shards without TensorFlow: framing, CRC checks, a cached offset index, and the
SSD-Tensorflow ``tf.train.Example`` schema (parsed with the ``tfrecord`` package's protobuf).

A record is ``uint64 length, uint32 masked_crc32c(length), data, uint32 masked_crc32c(data)``.
"""
import glob
import os
import os.path as osp
import struct
from dataclasses import dataclass
from typing import Dict, List, Optional

import numpy as np

__all__ = [
    'TFRecordError', 'masked_crc32c', 'ShardIndex', 'build_shard_index', 'load_shard_index',
    'read_record', 'parse_ssd_example', 'find_shards', 'image_size_from_bytes',
    'image_format_from_bytes'
]


class TFRecordError(ValueError):
    """A corrupt or truncated TFRecord shard, naming the shard and the record offset."""


def masked_crc32c(data) -> int:
    """TFRecord's masked CRC32C (``crc32c.crc32c`` is the maintained C implementation)."""
    import crc32c
    crc = crc32c.crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xa282ead8) & 0xffffffff


@dataclass
class ShardIndex:
    """Offsets (of each record's data) and lengths of the records of one shard."""
    path: str
    offsets: np.ndarray
    lengths: np.ndarray

    def __len__(self):
        return len(self.offsets)


def build_shard_index(path: str) -> ShardIndex:
    """Walks the framing of ``path``; checks every length CRC and that no record is cut."""
    size = os.path.getsize(path)
    offsets, lengths = [], []
    with open(path, 'rb') as f:
        pos = 0
        while pos < size:
            head = f.read(12)
            n = len(offsets)
            if len(head) < 12:
                raise TFRecordError(
                    f'{path}: record {n} at byte offset {pos}: the 12-byte record header is cut '
                    f'after {len(head)} bytes (file size {size}). The shard is truncated; '
                    're-copy or re-write it.')
            length, length_crc = struct.unpack('<QI', head)
            if masked_crc32c(head[:8]) != length_crc:
                raise TFRecordError(
                    f'{path}: record {n} at byte offset {pos}: length CRC mismatch (the length '
                    'field is corrupt). The shard is damaged; re-copy or re-write it.')
            end = pos + 12 + length + 4
            if end > size:
                raise TFRecordError(
                    f'{path}: record {n} at byte offset {pos}: declares {length} data bytes but '
                    f'the file ends {size - pos - 12} bytes later. The shard is truncated; '
                    're-copy or re-write it.')
            offsets.append(pos + 12)
            lengths.append(length)
            pos = end
            f.seek(pos)
    return ShardIndex(path, np.asarray(offsets, np.int64), np.asarray(lengths, np.int64))


def load_shard_index(path: str, cache_dir: Optional[str] = None) -> ShardIndex:
    """The index of ``path``, from its cache when the shard is unchanged (size, mtime).

    The cache is ``<shard>.hdaidx.npz`` beside the shard, or under ``cache_dir`` when
    given or when the shard's folder is read-only.
    """
    st = os.stat(path)
    stamp = np.asarray([st.st_size, st.st_mtime_ns], np.int64)
    name = osp.basename(path) + '.hdaidx.npz'
    candidates = [osp.join(cache_dir, name)] if cache_dir else []
    candidates.append(path + '.hdaidx.npz')
    for c in candidates:
        if osp.isfile(c):
            try:
                with np.load(c) as z:
                    if np.array_equal(z['stamp'], stamp):
                        return ShardIndex(path, z['offsets'], z['lengths'])
            except (OSError, ValueError, KeyError):
                pass  # unreadable cache: rebuild below
    index = build_shard_index(path)
    for c in candidates:
        try:
            os.makedirs(osp.dirname(c) or '.', exist_ok=True)
            tmp = c + f'.tmp{os.getpid()}.npz'
            np.savez(tmp, stamp=stamp, offsets=index.offsets, lengths=index.lengths)
            os.replace(tmp, c)
            break
        except OSError:
            continue
    return index


def read_record(fd: int, path: str, offset: int, length: int, verify_crc: bool = True,
                record: Optional[int] = None) -> bytes:
    """Reads one record's data at ``offset`` of the shard open as ``fd``; checks its CRC.

    ``os.pread`` keeps no file position, so descriptors inherited by forked dataloader
    workers cannot disturb one another.
    """
    buf = os.pread(fd, length + 4, offset)
    where = f'record {record} at byte offset {offset - 12}' if record is not None else \
        f'record at byte offset {offset - 12}'
    if len(buf) != length + 4:
        raise TFRecordError(f'{path}: {where}: read {len(buf)} of {length + 4} bytes; the shard '
                            'changed or is truncated.')
    data = buf[:length]
    if verify_crc and masked_crc32c(data) != struct.unpack('<I', buf[length:])[0]:
        raise TFRecordError(
            f'{path}: {where}: data CRC mismatch, the record is corrupt. Re-copy or re-write '
            'the shard (verify_crc=False reads it anyway, at your own risk).')
    return data


def find_shards(data_root: Optional[str], file_pattern: str) -> List[str]:
    """Sorted shards matching ``file_pattern`` (relative to ``data_root`` unless absolute)."""
    pattern = file_pattern if osp.isabs(file_pattern) or not data_root else osp.join(
        data_root, file_pattern)
    shards = sorted(p for p in glob.glob(pattern) if not p.endswith('.hdaidx.npz'))
    if not shards:
        raise FileNotFoundError(f'No TFRecord shard matches {pattern}. Check data_root and '
                                "file_pattern (e.g. 'hda_train_*.tfrecord').")
    return shards


def _values(feature):
    kind = feature.WhichOneof('kind')
    return list(getattr(feature, kind).value) if kind else []


def parse_ssd_example(data: bytes, with_image: bool = True) -> Dict:
    """Parses an SSD-Tensorflow ``tf.train.Example`` (``datasets/pascalvoc_to_tfrecords.py``).

    Returns:
        dict: ``image`` (bytes, when ``with_image``), ``format`` (declared), ``shape``
        (declared ``[h, w, c]``), ``boxes`` (``(n, 4)`` normalised ``ymin, xmin, ymax,
        xmax``), ``labels`` (int list), ``texts`` (str list), ``difficult`` (int list).
    """
    from tfrecord import example_pb2
    ex = example_pb2.Example.FromString(data)
    feat = ex.features.feature

    def get(key, default=()):
        return _values(feat[key]) if key in feat else list(default)

    h, w, c = get('image/height', [0])[:1], get('image/width', [0])[:1], \
        get('image/channels', [0])[:1]
    shape = get('image/shape') or [h[0] if h else 0, w[0] if w else 0, c[0] if c else 0]
    ymin, xmin = get('image/object/bbox/ymin'), get('image/object/bbox/xmin')
    ymax, xmax = get('image/object/bbox/ymax'), get('image/object/bbox/xmax')
    n = len(ymin)
    if not (len(xmin) == len(ymax) == len(xmax) == n):
        raise ValueError(f'bbox lists differ in length: ymin {n}, xmin {len(xmin)}, ymax '
                         f'{len(ymax)}, xmax {len(xmax)}')
    labels = [int(v) for v in get('image/object/bbox/label')]
    texts = [t.decode('utf-8', 'replace') if isinstance(t, bytes) else str(t)
             for t in get('image/object/bbox/label_text')]
    difficult = [int(v) for v in get('image/object/bbox/difficult', [0] * n)]
    fmt = get('image/format', [b''])
    out = dict(
        format=(fmt[0].decode('ascii', 'replace') if fmt and isinstance(fmt[0], bytes) else ''),
        shape=[int(v) for v in shape],
        boxes=np.asarray([ymin, xmin, ymax, xmax], np.float64).T.reshape(-1, 4),
        labels=labels, texts=texts, difficult=difficult or [0] * n)
    if with_image:
        enc = get('image/encoded', [b''])
        out['image'] = enc[0] if enc else b''
    return out


def image_format_from_bytes(data: bytes) -> str:
    """``'jpeg'``, ``'png'``, ``'gif'``, ``'bmp'`` or ``'unknown'``, from the signature."""
    if data[:3] == b'\xff\xd8\xff':
        return 'jpeg'
    if data[:8] == b'\x89PNG\r\n\x1a\n':
        return 'png'
    if data[:4] == b'GIF8':
        return 'gif'
    if data[:2] == b'BM':
        return 'bmp'
    return 'unknown'


def image_size_from_bytes(data: bytes):
    """``(width, height)`` from the image header without decoding the pixels (PIL)."""
    import io

    from PIL import Image
    with Image.open(io.BytesIO(data)) as im:
        return im.size
