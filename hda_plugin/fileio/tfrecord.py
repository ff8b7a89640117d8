"""TFRecord shards without TensorFlow: framing, CRC checks and a cached offset index.

A record is ``uint64 length, uint32 masked_crc32c(length), data, uint32 masked_crc32c(data)``.
:func:`iter_records` is the one framing parser: the dataset's index builds on it
(``strict=True``: the first problem raises) and ``tools/analysis/inspect_tfrecord.py``
scans with it (``strict=False``: problems are reported as records and the scan goes on
while the framing allows).
"""
import glob
import os
import os.path as osp
import struct
from dataclasses import dataclass
from typing import Iterator, List, Optional

import numpy as np

__all__ = [
    'TFRecordError', 'masked_crc32c', 'Record', 'iter_records', 'ShardIndex',
    'build_shard_index', 'load_shard_index', 'read_record', 'find_shards'
]

_HEADER = 12  # uint64 length + uint32 length CRC
_FOOTER = 4  # uint32 data CRC


class TFRecordError(ValueError):
    """A corrupt or truncated TFRecord shard, naming the shard and the record offset.

    ``fatal`` is True when the framing is lost (nothing after this record can be read).
    """

    def __init__(self, message: str, fatal: bool = True):
        super().__init__(message)
        self.fatal = fatal


def masked_crc32c(data) -> int:
    """TFRecord's masked CRC32C (``crc32c.crc32c`` is the maintained C implementation)."""
    import crc32c
    crc = crc32c.crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xa282ead8) & 0xffffffff


@dataclass
class Record:
    """One record of a shard: its number, the byte offset of its header, the data length,
    the data (None when not read, or unreadable) and the problem found, if any."""
    index: int
    offset: int
    length: int
    data: Optional[bytes] = None
    error: Optional[TFRecordError] = None

    @property
    def data_offset(self) -> int:
        return self.offset + _HEADER


def iter_records(path: str, strict: bool = True, read_data: bool = True,
                 verify_crc: bool = True) -> Iterator[Record]:
    """Walks the framing of the shard ``path``, one :class:`Record` per record.

    Every length CRC is checked and every declared length is checked against the file
    before anything is read, so a corrupt length field cannot make it allocate more than
    the file holds. With ``read_data`` the data is read and (``verify_crc``) its CRC checked.

    Args:
        strict: raise :class:`TFRecordError` at the first problem. With False, a problem is
            yielded as a record with ``error`` set: a data CRC mismatch is not fatal (the
            scan goes on), a cut or corrupt header ends the scan.
    """
    size = os.path.getsize(path)
    with open(path, 'rb') as f:
        pos, n = 0, 0
        while pos < size:
            f.seek(pos)
            head = f.read(_HEADER)
            problem = None
            if len(head) < _HEADER:
                problem = (f'the {_HEADER}-byte record header is cut after {len(head)} bytes '
                           f'(file size {size}). The shard is truncated; re-copy or re-write it.')
            else:
                length, length_crc = struct.unpack('<QI', head)
                if masked_crc32c(head[:8]) != length_crc:
                    problem = ('length CRC mismatch (the length field is corrupt). The shard '
                               'is damaged; re-copy or re-write it.')
                elif pos + _HEADER + length + _FOOTER > size:
                    problem = (f'declares {length} data bytes but the file ends '
                               f'{size - pos - _HEADER} bytes later. The shard is truncated; '
                               're-copy or re-write it.')
            if problem is not None:
                error = TFRecordError(f'{path}: record {n} at byte offset {pos}: {problem}')
                if strict:
                    raise error
                yield Record(n, pos, 0, None, error)
                return
            record = Record(n, pos, length)
            if read_data:
                body = f.read(length + _FOOTER)
                record.data = body[:length]
                if verify_crc and masked_crc32c(record.data) != \
                        struct.unpack('<I', body[length:])[0]:
                    record.error = TFRecordError(
                        f'{path}: record {n} at byte offset {pos}: data CRC mismatch, the '
                        'record is corrupt. Re-copy or re-write the shard (verify_crc=False '
                        'reads it anyway, at your own risk).', fatal=False)
                    record.data = None
                    if strict:
                        raise record.error
            yield record
            pos += _HEADER + length + _FOOTER
            n += 1


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
    spans = [(r.data_offset, r.length) for r in iter_records(path, read_data=False)]
    arr = np.asarray(spans, np.int64).reshape(-1, 2)
    return ShardIndex(path, arr[:, 0].copy(), arr[:, 1].copy())


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
