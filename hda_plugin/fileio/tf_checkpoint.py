"""TensorFlow checkpoints read without TensorFlow: V2 (``.index`` + ``.data-NNNNN-of-NNNNN``)
and V1 (one file).

There is no maintained reader outside TensorFlow (``tensorflow-checkpoint-reader`` pins
``protobuf<3.19``, see ``../shared/docs/stack-notes.md``), and the format is small:

- ``PREFIX.index`` is a LevelDB-style sorted table (TensorFlow's ``core/lib/io/table``):
  data blocks of prefix-compressed ``key -> value`` entries, an index block, a 48-byte
  footer ending in the magic ``0xdb4775248b80fb57``; every block is followed by a type
  byte (0 = uncompressed) and the masked CRC32C of block and type.
- The entry under the empty key is a ``BundleHeaderProto`` (``num_shards``); every other
  key is a variable name whose value is a ``BundleEntryProto``
  (``tensorflow/core/protobuf/tensor_bundle.proto``): dtype, shape, shard, offset, size,
  masked CRC32C of the tensor bytes.
- ``PREFIX.data-SSSSS-of-NNNNN`` holds the raw little-endian tensor bytes.

V1 checkpoints (one file, such as the 2016 TF-slim release ``vgg_16.ckpt``) are the same
kind of table: the empty key holds a ``SavedTensorSlices`` whose ``meta`` lists every
variable (name, shape, dtype; ``tensor_slice.proto``), and every other entry a
``SavedSlice``: name, extent and a ``TensorProto`` with the values (``float_val``...).

The protobuf messages are decoded from the wire format here: their ``.proto`` files ship
only with TensorFlow.
"""
import glob
import os.path as osp
import struct
from dataclasses import dataclass, field
from typing import Dict, List, Tuple

import numpy as np

from .tfrecord import masked_crc32c

__all__ = ['TFCheckpointError', 'TFCheckpoint', 'read_tf_checkpoint', 'resolve_checkpoint']

_TABLE_MAGIC = 0xdb4775248b80fb57
_FOOTER_LEN = 48
# tensorflow/core/framework/types.proto DataType -> numpy
_DTYPES = {
    1: np.float32, 2: np.float64, 3: np.int32, 4: np.uint8, 5: np.int16, 6: np.int8,
    9: np.int64, 10: np.bool_, 17: np.uint16, 19: np.float16, 22: np.uint32, 23: np.uint64,
}
_DT_BFLOAT16 = 14
_DTYPE_NAMES = {7: 'string', 8: 'complex64', 18: 'complex128', 20: 'resource', 21: 'variant'}


class TFCheckpointError(ValueError):
    """An unreadable or unsupported checkpoint, naming the file and the variable."""


@dataclass
class TFCheckpoint:
    """The tensors of one checkpoint, in the checkpoint's (sorted) order."""
    prefix: str
    tensors: Dict[str, np.ndarray]
    # variables that were not read, with the reason (string tensors, partitioned ones)
    skipped: Dict[str, str] = field(default_factory=dict)


def resolve_checkpoint(path: str) -> str:
    """The checkpoint prefix for a prefix, its ``.index``/``.data-*`` file or a directory
    (for a V1 checkpoint: its file)."""
    path = osp.expanduser(str(path))
    if osp.isdir(path):
        state = osp.join(path, 'checkpoint')
        if osp.isfile(state):
            # tf.train.CheckpointState text proto: model_checkpoint_path: "name"
            for line in open(state, encoding='utf-8'):
                if line.startswith('model_checkpoint_path:'):
                    name = line.split(':', 1)[1].strip().strip('"')
                    return name if osp.isabs(name) else osp.join(path, name)
        indices = sorted(glob.glob(osp.join(path, '*.index')))
        single_files = glob.glob(osp.join(path, '*.ckpt'))
        if not indices and len(single_files) == 1:
            return single_files[0]                                  # V1
        if len(indices) != 1:
            raise TFCheckpointError(
                f'{path}: expected one TensorFlow checkpoint (*.index) in the directory, '
                f'found {len(indices)}: {[osp.basename(p) for p in indices] or "none"}. '
                'Pass the checkpoint prefix, e.g. DIR/model.ckpt-1000.')
        return indices[0][:-len('.index')]
    if path.endswith('.index'):
        return path[:-len('.index')]
    if '.data-' in osp.basename(path):
        return path[:path.rindex('.data-')]
    if osp.isfile(path) and not osp.isfile(path + '.index'):
        return path         # a V1 checkpoint is one file
    if not osp.isfile(path + '.index'):
        raise TFCheckpointError(
            f'{path}: no checkpoint here: neither {path}.index nor a directory. Pass the '
            'prefix (vgg_16.ckpt for vgg_16.ckpt.index + vgg_16.ckpt.data-00000-of-00001).')
    return path


def _varint(buf: bytes, pos: int) -> Tuple[int, int]:
    result = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7f) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _proto_fields(buf: bytes) -> Dict[int, list]:
    """Protobuf wire format -> {field number: [values]} (varints as int, others bytes)."""
    fields: Dict[int, list] = {}
    pos = 0
    while pos < len(buf):
        tag, pos = _varint(buf, pos)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = struct.unpack_from('<Q', buf, pos)[0], pos + 8
        elif wire == 2:
            size, pos = _varint(buf, pos)
            value, pos = buf[pos:pos + size], pos + size
        elif wire == 5:
            value, pos = struct.unpack_from('<I', buf, pos)[0], pos + 4
        else:
            raise ValueError(f'unsupported protobuf wire type {wire}')
        fields.setdefault(number, []).append(value)
    return fields


def _read_block(data: bytes, offset: int, size: int, where: str) -> List[Tuple[bytes, bytes]]:
    """The entries of one table block, after checking its CRC."""
    if offset + size + 5 > len(data):
        raise TFCheckpointError(f'{where}: block at offset {offset} runs past the end of the '
                                'file; the index file is truncated')
    block = data[offset:offset + size]
    kind = data[offset + size]
    crc = struct.unpack_from('<I', data, offset + size + 1)[0]
    if masked_crc32c(data[offset:offset + size + 1]) != crc:
        raise TFCheckpointError(f'{where}: CRC mismatch in the block at offset {offset}; '
                                'the index file is corrupt')
    if kind != 0:
        raise TFCheckpointError(f'{where}: block at offset {offset} is compressed (type '
                                f'{kind}); TensorFlow writes checkpoint indices uncompressed')
    num_restarts = struct.unpack_from('<I', block, size - 4)[0]
    end = size - 4 - 4 * num_restarts
    entries, key, pos = [], b'', 0
    while pos < end:
        shared, pos = _varint(block, pos)
        unshared, pos = _varint(block, pos)
        value_len, pos = _varint(block, pos)
        key = key[:shared] + block[pos:pos + unshared]
        pos += unshared
        entries.append((key, block[pos:pos + value_len]))
        pos += value_len
    return entries


def _read_table(path: str) -> List[Tuple[bytes, bytes]]:
    with open(path, 'rb') as f:
        data = f.read()
    if len(data) < _FOOTER_LEN or struct.unpack_from('<Q', data, len(data) - 8)[0] \
            != _TABLE_MAGIC:
        raise TFCheckpointError(f'{path}: not a TensorFlow checkpoint (no table magic number '
                                'at the end of the file)')
    footer = data[-_FOOTER_LEN:]
    _, pos = _varint(footer, 0)          # metaindex handle: offset
    _, pos = _varint(footer, pos)        # metaindex handle: size
    index_offset, pos = _varint(footer, pos)
    index_size, _ = _varint(footer, pos)
    entries = []
    for _, handle in _read_block(data, index_offset, index_size, path):
        offset, pos = _varint(handle, 0)
        size, _ = _varint(handle, pos)
        entries.extend(_read_block(data, offset, size, path))
    return entries


def _tensor(name: str, entry: Dict[int, list], shards: Dict[int, bytes], prefix: str):
    dtype = entry.get(1, [0])[0]
    dims = []
    for shape in entry.get(2, []):
        shape = _proto_fields(shape)
        if shape.get(3, [0])[0]:
            raise TFCheckpointError(f'{prefix}: variable {name!r} has an unknown rank')
        dims = [_proto_fields(d).get(1, [0])[0] for d in shape.get(2, [])]
    shard_id = entry.get(3, [0])[0]
    offset, size = entry.get(4, [0])[0], entry.get(5, [0])[0]
    data = shards[shard_id][offset:offset + size]
    if len(data) != size:
        raise TFCheckpointError(
            f'{prefix}.data-{shard_id:05d}: variable {name!r} needs bytes {offset}..'
            f'{offset + size}, the file ends at {len(shards[shard_id])}; it is truncated')
    if 6 in entry and masked_crc32c(data) != entry[6][0]:
        raise TFCheckpointError(f'{prefix}.data-{shard_id:05d}: CRC mismatch in variable '
                                f'{name!r} (offset {offset}); the data file is corrupt')
    if dtype == _DT_BFLOAT16:
        bits = np.frombuffer(data, '<u2').astype(np.uint32) << 16
        return bits.view(np.float32).reshape(dims)
    return np.frombuffer(data, np.dtype(_DTYPES[dtype]).newbyteorder('<')).reshape(dims)


def _progress(entries, enabled: bool, path: str):
    if not enabled:
        return entries
    from tqdm import tqdm
    return tqdm(entries, desc=f'reading {osp.basename(path)}', unit='var', leave=False)


def _packed_varints(buf: bytes) -> List[int]:
    out, pos = [], 0
    while pos < len(buf):
        v, pos = _varint(buf, pos)
        out.append(v - (1 << 64) if v >= 1 << 63 else v)
    return out


# TensorProto fields holding values, by dtype: (field, numpy dtype of the packed bytes or
# 'varint')
_V1_VALUES = {1: (5, '<f4'), 2: (6, '<f8'), 3: (7, 'varint'), 4: (7, 'varint'),
              5: (7, 'varint'), 6: (7, 'varint'), 9: (10, 'varint'), 10: (11, 'varint'),
              19: (13, 'varint')}


def _v1_values(proto: Dict[int, list], dtype: int) -> np.ndarray:
    np_dtype = np.dtype(_DTYPES[dtype])
    if 4 in proto:                                  # tensor_content: raw bytes
        return np.frombuffer(b''.join(proto[4]), np_dtype.newbyteorder('<'))
    field_no, kind = _V1_VALUES[dtype]
    values = proto.get(field_no, [])
    if kind == 'varint':
        ints = [v for x in values for v in (_packed_varints(x) if isinstance(x, bytes)
                                            else [x])]
        if dtype == 19:                             # half_val holds the uint16 bit patterns
            return np.array(ints, np.uint16).view(np.float16)
        return np.array(ints, np.int64).astype(np_dtype)
    width = np.dtype(kind).itemsize
    parts = [np.frombuffer(x, kind) if isinstance(x, bytes)
             else np.frombuffer(struct.pack('<I' if width == 4 else '<Q', x), kind)
             for x in values]
    return np.concatenate(parts).astype(np_dtype) if parts else np.zeros(0, np_dtype)


def _read_v1(path: str, progress: bool = False) -> TFCheckpoint:
    """A V1 checkpoint: one table of ``SavedTensorSlices`` messages."""
    entries = _read_table(path)
    header = dict(entries).get(b'')
    if header is None:
        raise TFCheckpointError(f'{path}: a table without the V1 checkpoint header (empty '
                                'key); not a TensorFlow checkpoint')
    metas = {}
    for meta in _proto_fields(header).get(1, []):         # SavedTensorSlices.meta
        for item in _proto_fields(meta).get(1, []):       # SavedSliceMeta
            f = _proto_fields(item)
            dims = [_proto_fields(d).get(1, [0])[0]
                    for shape in f.get(2, []) for d in _proto_fields(shape).get(2, [])]
            metas[f[1][0].decode('utf-8')] = (dims, f.get(3, [0])[0])
    tensors, skipped = {}, {}
    arrays: Dict[str, np.ndarray] = {}
    for key, value in _progress(entries, progress, path):
        if key == b'':
            continue
        for saved in _proto_fields(value).get(2, []):     # SavedTensorSlices.data
            f = _proto_fields(saved)
            name = f[1][0].decode('utf-8')
            dims, dtype = metas.get(name, (None, 0))
            if dims is None:
                raise TFCheckpointError(f'{path}: slice of variable {name!r} without an '
                                        'entry in the checkpoint header')
            if dtype not in _DTYPES:
                skipped[name] = f'dtype {_DTYPE_NAMES.get(dtype, dtype)}'
                continue
            extents = [_proto_fields(e) for s in f.get(2, [])
                       for e in _proto_fields(s).get(1, [])]
            values = _v1_values(_proto_fields(f[3][0]) if 3 in f else {}, dtype)
            full = all(2 not in e for e in extents)
            index = tuple(slice(e.get(1, [0])[0], e.get(1, [0])[0] + e[2][0]) if 2 in e
                          else slice(None) for e in extents)
            target = arrays.setdefault(name, np.zeros(dims, np.dtype(_DTYPES[dtype])))
            part_shape = target[index].shape if not full else target.shape
            if values.size != int(np.prod(part_shape)):
                raise TFCheckpointError(
                    f'{path}: variable {name!r} holds {values.size} values for a slice of '
                    f'shape {tuple(part_shape)}; the file is corrupt')
            target[index if not full else Ellipsis] = values.reshape(part_shape)
    for name in sorted(metas):
        if name in arrays:
            tensors[name] = arrays[name]
        elif name not in skipped:
            skipped[name] = 'no data in the file'
    return TFCheckpoint(prefix=path, tensors=tensors, skipped=skipped)


def read_tf_checkpoint(path: str, progress: bool = False) -> TFCheckpoint:
    """All tensors of a checkpoint: V2 (prefix, ``.index``/``.data-*`` file or directory)
    or V1 (its single file).

    String, resource and partitioned variables are not read; they are listed in
    ``skipped`` with the reason. ``progress`` shows a tqdm bar over the variables. A table
    or message that does not parse (a corruption the block CRCs did not catch) is a
    :class:`TFCheckpointError` naming the file.
    """
    prefix = resolve_checkpoint(path)
    try:
        return _read_checkpoint(prefix, progress)
    except TFCheckpointError:
        raise
    except (IndexError, KeyError, ValueError, struct.error, OverflowError) as e:
        raise TFCheckpointError(
            f'{prefix}: the checkpoint does not parse ({type(e).__name__}: {e}) although its '
            'checksums agree: the file is corrupt or was not written by TensorFlow. Re-copy or '
            're-export it.') from None


def _read_checkpoint(prefix: str, progress: bool) -> TFCheckpoint:
    if not osp.isfile(prefix + '.index'):
        return _read_v1(prefix, progress)
    entries = _read_table(prefix + '.index')
    header = dict(entries).get(b'')
    num_shards = _proto_fields(header).get(1, [1])[0] if header is not None else 1
    shards = {}
    for i in range(num_shards):
        name = f'{prefix}.data-{i:05d}-of-{num_shards:05d}'
        if not osp.isfile(name):
            raise TFCheckpointError(f'{prefix}.index names {num_shards} data file(s); '
                                    f'{name} is missing')
        with open(name, 'rb') as f:
            shards[i] = f.read()
    tensors, skipped = {}, {}
    for key, value in _progress(entries, progress, prefix):
        if key == b'':
            continue
        name = key.decode('utf-8')
        entry = _proto_fields(value)
        dtype = entry.get(1, [0])[0]
        if 7 in entry:
            skipped[name] = 'partitioned variable (slices)'
        elif dtype not in _DTYPES and dtype != _DT_BFLOAT16:
            skipped[name] = f'dtype {_DTYPE_NAMES.get(dtype, dtype)}'
        else:
            tensors[name] = _tensor(name, entry, shards, prefix)
    return TFCheckpoint(prefix=prefix, tensors=tensors, skipped=skipped)

