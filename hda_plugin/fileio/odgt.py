"""CrowdHuman's ``.odgt`` annotation files: one JSON record per line,
``{"ID", "gtboxes": [{"tag", "fbox", "vbox", "hbox": [x, y, w, h], "extra": {...},
"head_attr": {...}}]}``; and the release's naming rules (``annotation_{split}.odgt``,
``Images/<ID>.jpg``).

Every error names the file and line (``annotation_val.odgt:17``), the box index where one
is at fault, what was expected and the fix. Lines are read a batch at a time with a
length limit (:func:`~.text_format_error.read_line_batches`).
"""
import json
import os.path as osp
from dataclasses import dataclass, field
from typing import Iterator, List, Optional, Sequence, Tuple

from .text_format_error import TextFormatError, max_line_bytes, read_line_batches

__all__ = ['CROWDHUMAN_LAYOUT', 'OdgtFormatError', 'OdgtBox', 'OdgtRecord', 'iter_odgt',
           'load_odgt', 'odgt_filename', 'crowdhuman_image_path', 'BOX_KEYS']

#: Folders and names of a release, relative to its root.
CROWDHUMAN_LAYOUT = dict(img='Images', ann='annotation_{split}.odgt')

#: Keys every box must hold: ``hbox`` is unused by training but MMDetection's
#: ``CrowdHumanMetric`` reads it for every box, so its absence is found at load time.
BOX_KEYS = ('tag', 'fbox', 'vbox', 'hbox')

#: A line's limit (``HDA_SSD_MAX_LINE_BYTES`` overrides): the densest CrowdHuman images hold
#: a few hundred boxes, tens of KB.
_MAX_LINE = 16 << 20

_FIX = 'The file is not as distributed: download annotation_{train,val}.odgt again.'


class OdgtFormatError(TextFormatError):
    """A malformed ``.odgt`` line: file, line, what was expected and what was found."""
    what = '.odgt record'


@dataclass
class OdgtBox:
    """One entry of ``gtboxes``. Boxes are ``[x, y, w, h]``; ``ignore`` is
    ``extra.ignore`` (0 when absent); ``index`` is the place in ``gtboxes``."""
    index: int
    tag: str
    fbox: Tuple[float, float, float, float]
    vbox: Optional[Tuple[float, float, float, float]] = None
    hbox: Optional[Tuple[float, float, float, float]] = None
    ignore: int = 0


@dataclass
class OdgtRecord:
    """One line: an image ``ID`` and its boxes."""
    line_no: int
    id: str
    boxes: List[OdgtBox] = field(default_factory=list)


def odgt_filename(split: str) -> str:
    """``'val'`` -> ``'annotation_val.odgt'``."""
    return CROWDHUMAN_LAYOUT['ann'].format(split=split)


def crowdhuman_image_path(img_root: str, image_id: str) -> str:
    """``<img_root>/<ID>.jpg``."""
    return osp.join(img_root, f'{image_id}.jpg')


def load_odgt(path: str, box_keys: Sequence[str] = BOX_KEYS) -> List[OdgtRecord]:
    """Every record of an ``.odgt`` file (see :func:`iter_odgt`)."""
    return list(iter_odgt(path, box_keys))


def iter_odgt(path: str, box_keys: Sequence[str] = BOX_KEYS) -> Iterator[OdgtRecord]:
    """The records of an ``.odgt`` file, one per non-blank line (plain JSON: nothing in it
    runs).

    Args:
        path (str): the file.
        box_keys (Sequence[str]): keys every box must hold. Defaults to :data:`BOX_KEYS`.

    Raises:
        OdgtFormatError: a line that is not a JSON object, a missing key (naming the box
            index), a value of the wrong type, or an ``ID`` seen on an earlier line.
    """
    seen = {}
    with open(path, 'rb') as f:
        for first, _, lines in read_line_batches(f, path, max_line_bytes(_MAX_LINE),
                                                 OdgtFormatError, 'one JSON record a line'):
            for k, raw in enumerate(lines):
                line_no = first + k
                if not raw.strip():
                    continue
                rec = _record(raw, path, line_no, box_keys)
                if rec.id in seen:
                    raise OdgtFormatError(
                        path, line_no, 'a new ID (each image once)', rec.id,
                        f'ID {rec.id!r} is already on line {seen[rec.id]}. {_FIX}')
                seen[rec.id] = line_no
                yield rec


def _reject_constant(name):
    raise ValueError(f'{name} is not a number a box may hold')


def _record(raw: bytes, path: str, line_no: int, box_keys: Sequence[str]) -> OdgtRecord:
    raw = raw.rstrip(b'\r\n')
    try:
        doc = json.loads(raw.decode('utf-8'), parse_constant=_reject_constant)
    except UnicodeDecodeError as e:
        raise OdgtFormatError(path, line_no, 'UTF-8 JSON text', raw[max(e.start - 8, 0):
                                                                     e.start + 8],
                              f'Byte {e.start} of the line is not UTF-8. {_FIX}') from None
    except json.JSONDecodeError as e:
        raise OdgtFormatError(path, line_no, 'one JSON object',
                              raw[max(e.pos - 20, 0):e.pos + 20],
                              f'Column {e.colno}: {e.msg}. {_FIX}') from None
    except ValueError as e:  # NaN / Infinity
        raise OdgtFormatError(path, line_no, 'finite numbers', raw[:60], f'{e}. {_FIX}') \
            from None
    if not isinstance(doc, dict):
        raise OdgtFormatError(path, line_no, 'a JSON object {"ID", "gtboxes"}',
                              type(doc).__name__, _FIX)
    for key in ('ID', 'gtboxes'):
        if key not in doc:
            raise OdgtFormatError(path, line_no, f'key {key!r} (a record holds ID and '
                                  'gtboxes)', sorted(doc), f'Missing key {key!r}. {_FIX}')
    if not isinstance(doc['ID'], str) or not doc['ID']:
        raise OdgtFormatError(path, line_no, 'ID as a non-empty string', doc['ID'], _FIX)
    if not isinstance(doc['gtboxes'], list):
        raise OdgtFormatError(path, line_no, 'gtboxes as a list', doc['gtboxes'], _FIX)
    boxes = [_box(b, i, path, line_no, box_keys) for i, b in enumerate(doc['gtboxes'])]
    return OdgtRecord(line_no, doc['ID'], boxes)


def _box(b, i: int, path: str, line_no: int, box_keys: Sequence[str]) -> OdgtBox:
    where = f'gtboxes[{i}]'
    if not isinstance(b, dict):
        raise OdgtFormatError(path, line_no, f'{where} as a JSON object', b, _FIX)
    for key in box_keys:
        if key not in b:
            raise OdgtFormatError(path, line_no, f'key {key!r} in {where} (every box holds '
                                  f'{", ".join(box_keys)})', sorted(b),
                                  f'Missing key {key!r} in box {i}. {_FIX}')
    if not isinstance(b.get('tag'), str):
        raise OdgtFormatError(path, line_no, f'{where}.tag as a string', b.get('tag'), _FIX)
    boxes = {k: _xywh(b[k], f'{where}.{k}', path, line_no) if k in b else None
             for k in ('fbox', 'vbox', 'hbox')}
    if boxes['fbox'] is None:
        raise OdgtFormatError(path, line_no, f'key \'fbox\' in {where}', sorted(b),
                              f'Missing key \'fbox\' in box {i}. {_FIX}')
    extra = b.get('extra', {})
    if not isinstance(extra, dict):
        raise OdgtFormatError(path, line_no, f'{where}.extra as a JSON object', extra, _FIX)
    ignore = extra.get('ignore', 0)
    if not isinstance(ignore, (int, float)) or isinstance(ignore, bool):
        raise OdgtFormatError(path, line_no, f'{where}.extra.ignore as 0 or 1', ignore, _FIX)
    return OdgtBox(i, b['tag'], boxes['fbox'], boxes['vbox'], boxes['hbox'], int(ignore != 0))


def _xywh(v, where: str, path: str, line_no: int) -> Tuple[float, float, float, float]:
    if not (isinstance(v, list) and len(v) == 4 and all(
            isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)):
        raise OdgtFormatError(path, line_no, f'{where} as [x, y, w, h] (4 numbers)',
                              v, _FIX)
    return tuple(float(x) for x in v)
