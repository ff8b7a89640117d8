"""SSD-Tensorflow's ``tf.train.Example`` schema (``datasets/pascalvoc_to_tfrecords.py``),
parsed with the ``tfrecord`` package's protobuf, and image headers read without decoding."""
from typing import Dict

import numpy as np

__all__ = ['parse_ssd_example', 'example_image', 'image_size_from_bytes',
           'image_format_from_bytes']


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


def example_image(data: bytes) -> bytes:
    """``image/encoded`` of a serialised ``tf.train.Example`` (b'' when absent), without
    converting its other features (what the image loader needs, once per record read)."""
    from tfrecord import example_pb2
    feat = example_pb2.Example.FromString(data).features.feature
    if 'image/encoded' not in feat:
        return b''
    values = feat['image/encoded'].bytes_list.value
    return values[0] if values else b''


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
