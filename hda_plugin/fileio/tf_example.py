"""SSD-Tensorflow's ``tf.train.Example`` schema (``datasets/pascalvoc_to_tfrecords.py``):
written as the ``tfrecord`` package's feature dict, parsed with its protobuf; image headers
read without decoding."""
from typing import Dict

import numpy as np

__all__ = ['ssd_example', 'parse_ssd_example', 'example_image', 'image_size_from_bytes',
           'image_format_from_bytes']


def _values(feature):
    kind = feature.WhichOneof('kind')
    return list(getattr(feature, kind).value) if kind else []


def ssd_example(width: int, height: int, boxes_xyxy, difficult, encoded: bytes,
                person_id: int) -> Dict:
    """The feature dict of one SSD-Tensorflow example, for ``tfrecord``'s
    ``TFRecordWriter.write``: boxes (pixels ``x1, y1, x2, y2``) normalised to ``[0, 1]``,
    every box labelled ``person_id`` with ``label_text`` ``b'person'``, ``difficult`` per
    box, the image bytes stored as they are with ``image/format`` ``b'JPEG'`` (as the
    SSD-Tensorflow converter writes it, whatever the bytes are)."""
    w, h = width, height
    boxes = [list(b) for b in boxes_xyxy]
    return {
        'image/height': (h, 'int'), 'image/width': (w, 'int'), 'image/channels': (3, 'int'),
        'image/shape': ([h, w, 3], 'int'),
        'image/object/bbox/xmin': ([b[0] / w for b in boxes], 'float'),
        'image/object/bbox/ymin': ([b[1] / h for b in boxes], 'float'),
        'image/object/bbox/xmax': ([b[2] / w for b in boxes], 'float'),
        'image/object/bbox/ymax': ([b[3] / h for b in boxes], 'float'),
        'image/object/bbox/label': ([person_id] * len(boxes), 'int'),
        'image/object/bbox/label_text': ([b'person'] * len(boxes), 'byte'),
        'image/object/bbox/difficult': ([int(d) for d in difficult], 'int'),
        'image/object/bbox/truncated': ([0] * len(boxes), 'int'),
        'image/format': (b'JPEG', 'byte'),
        'image/encoded': (encoded, 'byte'),
    }


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
