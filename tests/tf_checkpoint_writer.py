"""A minimal TensorFlow V2 checkpoint writer for tests that need checkpoints too large to
commit (a full-size VGG16). Format as in hda_plugin/fileio/tf_checkpoint.py: one data
block, an index block, an empty metaindex block and the footer; no prefix compression.
The reader it feeds is checked against files written by real TensorFlow
(tests/fixtures/tfslim_vgg16), and tests/test_weights checks this writer's output round-trips.
"""
import struct

import numpy as np

from hda_plugin.fileio.tfrecord import masked_crc32c

_DTYPES = {np.dtype(np.float32): 1, np.dtype(np.float64): 2, np.dtype(np.int32): 3,
           np.dtype(np.int64): 9}


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7f, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, value) -> bytes:
    if isinstance(value, bytes):
        return _varint(number << 3 | 2) + _varint(len(value)) + value
    return _varint(number << 3) + _varint(value)


def _block(entries) -> bytes:
    body = b''.join(_varint(0) + _varint(len(k)) + _varint(len(v)) + k + v for k, v in entries)
    return body + struct.pack('<II', 0, 1)      # one restart point at 0


def _with_trailer(block: bytes) -> bytes:
    return block + b'\0' + struct.pack('<I', masked_crc32c(block + b'\0'))


def write_tf_checkpoint(prefix: str, tensors: dict):
    """Write ``{name: array}`` as ``prefix.index`` + ``prefix.data-00000-of-00001``."""
    entries, offset = [(b'', _field(1, 1) + _field(3, _field(1, 1)))], 0
    with open(prefix + '.data-00000-of-00001', 'wb') as f:
        for name in sorted(tensors):
            arr = np.asarray(tensors[name])  # (ascontiguousarray would make scalars 1-d)
            data = arr.astype(arr.dtype.newbyteorder('<')).tobytes()
            f.write(data)
            shape = b''.join(_field(2, _field(1, d)) for d in arr.shape)
            entry = (_field(1, _DTYPES[arr.dtype]) + _field(2, shape) + _field(4, offset)
                     + _field(5, len(data)) + _varint(6 << 3 | 5)
                     + struct.pack('<I', masked_crc32c(data)))
            entries.append((name.encode(), entry))
            offset += len(data)
    data_block = _with_trailer(_block(entries))
    meta_block = _with_trailer(_block([]))
    handle = _varint(0) + _varint(len(data_block) - 5)
    index_block = _with_trailer(_block([(entries[-1][0] + b'\xff', handle)]))
    meta_off = len(data_block)
    index_off = meta_off + len(meta_block)
    footer = (_varint(meta_off) + _varint(len(meta_block) - 5) + _varint(index_off)
              + _varint(len(index_block) - 5))
    footer = footer.ljust(40, b'\0') + struct.pack('<Q', 0xdb4775248b80fb57)
    with open(prefix + '.index', 'wb') as f:
        f.write(data_block + meta_block + index_block + footer)
