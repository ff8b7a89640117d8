"""The INRIA Person release (``INRIAPerson/``): its naming rules, in one place, and its
"PASCAL Annotation Version 1.00" text files.

Layout (Dalal and Triggs' release, as distributed)::

    INRIAPerson/
        Train/pos.lst  Train/neg.lst  Train/annotations.lst
        Train/pos/crop001001.png ...   Train/neg/00000002a.png ...
        Train/annotations/crop001001.txt ...
        Test/...                       (the same three lists and folders)

The ``.lst`` lines are paths relative to ``INRIAPerson/`` (``Train/pos/crop001001.png``);
the annotation of ``<Split>/pos/<name>.<ext>`` is ``<Split>/annotations/<name>.txt``.

An annotation file (latin-1: its ``Database`` line spells "Rhône-Alpes")::

    # PASCAL Annotation Version 1.00
    Image filename : "Train/pos/crop001011.png"
    Image size (X x Y x C) : 1124 x 826 x 3
    Database : "The INRIA Rhône-Alpes Annotated Person Database"
    Objects with ground truth : 2 { "PASperson" "PASperson" }
    # Top left pixel co-ordinates : (0, 0)
    Original label for object 1 "PASperson" : "UprightPerson"
    Center point on object 1 "PASperson" (X, Y) : (344, 235)
    Bounding box for object 1 "PASperson" (Xmin, Ymin) - (Xmax, Ymax) : (164, 176) - (433, 784)
    ...

:func:`parse_pascal_annotation` reads every field and checks the declared object count
against the objects found; errors (:class:`PascalAnnotationError`) name the file and line.
Image sizes come from :mod:`.image_header` (the PNG/JPEG header, nothing decoded).
"""
import os
import os.path as osp
import re
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

from .text_format_error import TextFormatError

__all__ = ['INRIA_SPLITS', 'INRIA_LISTS', 'INRIA_PERSON_LABEL', 'ListEntry',
           'PascalAnnotationError', 'PascalObject', 'PascalAnnotation', 'list_path',
           'read_list', 'annotation_rel_path', 'parse_pascal_annotation',
           'load_pascal_annotation', 'MAX_ANNOTATION_BYTES']

#: The release's two splits, as its folders spell them.
INRIA_SPLITS = ('Train', 'Test')
#: The three lists of a split (``<Split>/<kind>.lst``) and the folders they list.
INRIA_LISTS = ('pos', 'neg', 'annotations')
#: The one object label of the release's annotations.
INRIA_PERSON_LABEL = 'PASperson'

#: An annotation file longer than this is not one (the release's are under 2 KB).
MAX_ANNOTATION_BYTES = 1 << 20

_NUM = r'(-?\d+(?:\.\d*)?)'
_QUOTED = r'"([^"]*)"'
_RE_FILENAME = re.compile(r'^Image filename\s*:\s*' + _QUOTED + r'\s*$')
_RE_SIZE = re.compile(r'^Image size \(X x Y x C\)\s*:\s*(\d+)\s*x\s*(\d+)\s*x\s*(\d+)\s*$')
_RE_DATABASE = re.compile(r'^Database\s*:\s*' + _QUOTED + r'\s*$')
_RE_OBJECTS = re.compile(r'^Objects with ground truth\s*:\s*(\d+)\s*\{((?:\s*"[^"]*")*)\s*\}\s*$')
_RE_ORIGINAL = re.compile(r'^Original label for object (\d+) ' + _QUOTED + r'\s*:\s*' +
                          _QUOTED + r'\s*$')
_RE_CENTER = re.compile(r'^Center point on object (\d+) ' + _QUOTED +
                        r' \(X, Y\)\s*:\s*\(\s*' + _NUM + r'\s*,\s*' + _NUM + r'\s*\)\s*$')
_RE_BBOX = re.compile(r'^Bounding box for object (\d+) ' + _QUOTED +
                      r' \(Xmin, Ymin\) - \(Xmax, Ymax\)\s*:\s*\(\s*' + _NUM + r'\s*,\s*' +
                      _NUM + r'\s*\)\s*-\s*\(\s*' + _NUM + r'\s*,\s*' + _NUM + r'\s*\)\s*$')
_RE_ORIGIN = re.compile(r'^#\s*Top left pixel co-ordinates\s*:\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)\s*$')
# PASCAL 1.00 fields of other databases than INRIA's, read and not used
_RE_UNUSED = re.compile(r'^(Pixel mask for object \d+|Image source|Source)\b')


class PascalAnnotationError(TextFormatError):
    """A malformed "PASCAL Annotation Version 1.00" file or INRIA ``.lst`` list."""
    what = 'INRIA Person annotation'


@dataclass
class ListEntry:
    """One line of an INRIA ``.lst`` file: its number (1-based) and the path it names,
    relative to the ``INRIAPerson`` folder."""
    line_no: int
    rel_path: str


@dataclass
class PascalObject:
    """One object of an annotation file.

    Attributes:
        index: its 1-based number in the file (``object 1``).
        label: the class (``PASperson``).
        bbox: ``(Xmin, Ymin, Xmax, Ymax)`` as written.
        line_no: the line of its bounding box.
        original_label: ``Original label`` (``UprightPerson``), None when absent.
        center: ``Center point`` (the head centre in INRIA), None when absent.
    """
    index: int
    label: str
    bbox: Tuple[float, float, float, float]
    line_no: int
    original_label: Optional[str] = None
    center: Optional[Tuple[float, float]] = None


@dataclass
class PascalAnnotation:
    """One "PASCAL Annotation Version 1.00" file.

    Attributes:
        path: the file read.
        filename: ``Image filename`` (relative to the ``INRIAPerson`` folder).
        width, height, channels: ``Image size (X x Y x C)``.
        size_line: the line of ``Image size``.
        declared: the labels listed in ``Objects with ground truth : N { ... }``.
        objects: the objects, in file order.
        database: ``Database``, None when absent.
        origin: ``# Top left pixel co-ordinates`` (``(0, 0)`` in INRIA; assumed when absent).
    """
    path: str
    filename: str
    width: int
    height: int
    channels: int
    size_line: int
    declared: List[str]
    objects: List[PascalObject] = field(default_factory=list)
    database: Optional[str] = None
    origin: Tuple[int, int] = (0, 0)


# -- the release's naming rules --------------------------------------------------------
def _check_split(split: str) -> None:
    if split not in INRIA_SPLITS:
        raise ValueError(f'INRIA Person split {split!r}: expected one of {list(INRIA_SPLITS)} '
                         '(the folder names of INRIAPerson/, case included).')


def list_path(root: str, split: str, kind: str) -> str:
    """``<root>/<split>/<kind>.lst``, e.g. ``INRIAPerson/Train/pos.lst``."""
    _check_split(split)
    if kind not in INRIA_LISTS:
        raise ValueError(f'INRIA Person list {kind!r}: expected one of {list(INRIA_LISTS)}.')
    return osp.join(root, split, f'{kind}.lst')


def annotation_rel_path(pos_rel: str) -> str:
    """``Train/pos/crop001001.png`` -> ``Train/annotations/crop001001.txt``."""
    parts = pos_rel.split('/')
    if len(parts) != 3 or parts[0] not in INRIA_SPLITS or parts[1] != 'pos':
        raise ValueError(f'{pos_rel!r} is not a positive image of the INRIA layout '
                         '(<Split>/pos/<name>.<ext>, e.g. Train/pos/crop001001.png).')
    return f'{parts[0]}/annotations/{osp.splitext(parts[2])[0]}.txt'


def read_list(root: str, split: str, kind: str) -> List[ListEntry]:
    """The entries of ``<root>/<split>/<kind>.lst`` (blank lines skipped, ``\\r\\n`` and
    backslashes accepted), each checked to name a file of ``<split>/<kind>/``.

    Raises:
        FileNotFoundError: the list is missing (the root is not the ``INRIAPerson`` folder).
        PascalAnnotationError: a line naming another folder, or a path listed twice.
    """
    path = list_path(root, split, kind)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{path} does not exist: INRIA_ROOT must be the INRIAPerson folder of the '
            f'release, holding {"/".join(INRIA_SPLITS)}/{{pos,neg,annotations}}.lst '
            f'(found there: {sorted(os.listdir(root)) if osp.isdir(root) else "no folder"}).')
    if os.path.getsize(path) > 16 * MAX_ANNOTATION_BYTES:
        raise PascalAnnotationError(path, 1, f'a list of at most {16 * MAX_ANNOTATION_BYTES:,} '
                                    'bytes', f'{os.path.getsize(path):,} bytes',
                                    'This is not an INRIA .lst file.')
    with open(path, 'rb') as f:
        text = f.read().decode('latin-1')
    prefix = f'{split}/{kind}/'
    entries, seen = [], {}
    for i, line in enumerate(text.splitlines(), 1):
        rel = line.strip().replace('\\', '/')
        if not rel:
            continue
        if not rel.startswith(prefix) or rel == prefix or '/' in rel[len(prefix):]:
            raise PascalAnnotationError(
                path, i, f'a path of {prefix}<name> (relative to the INRIAPerson folder)', rel,
                f'Every line of {kind}.lst names one file of {split}/{kind}/; fix the line, '
                'or point INRIA_ROOT at the INRIAPerson folder if the paths carry another '
                'prefix.')
        if rel in seen:
            raise PascalAnnotationError(path, i, 'each file listed once', rel,
                                        f'Already listed on line {seen[rel]}; remove one.')
        seen[rel] = i
        entries.append(ListEntry(i, rel))
    return entries


# -- the annotation files --------------------------------------------------------------
def _label_list(text: str) -> List[str]:
    return re.findall(r'"([^"]*)"', text)


def parse_pascal_annotation(text: str, path: str = '<text>') -> PascalAnnotation:
    """Parses the text of a "PASCAL Annotation Version 1.00" file.

    Every line is a comment (``#``), blank, or one of the fields above; anything else is an
    error naming the line. ``Image filename``, ``Image size`` and ``Objects with ground
    truth`` are required once; each object ``1..N`` needs its ``Bounding box`` and its label
    must be the one declared at its place in the ``{ ... }`` list.

    Raises:
        PascalAnnotationError: naming ``path`` and the line.
    """
    filename = size = objects_decl = database = None
    origin = (0, 0)
    objs: dict = {}  # index -> dict of the fields read, with their lines
    last_line = 0

    def once(name, current, line_no, line):
        if current is not None:
            raise PascalAnnotationError(path, line_no, f'one "{name}" line', line,
                                        f'"{name}" was already given on line {current[-1]}.')

    for line_no, raw in enumerate(text.splitlines(), 1):
        last_line = line_no
        line = raw.strip()
        if not line:
            continue
        if line.startswith('#'):
            m = _RE_ORIGIN.match(line)
            if m:
                origin = (int(m.group(1)), int(m.group(2)))
            continue
        m = _RE_BBOX.match(line)
        if m:
            o = _object(objs, int(m.group(1)), m.group(2), path, line_no, line)
            if 'bbox' in o:
                raise PascalAnnotationError(path, line_no, 'one bounding box per object', line,
                                            f'Object {m.group(1)} already has one on line '
                                            f'{o["bbox_line"]}.')
            o['bbox'] = tuple(float(m.group(k)) for k in range(3, 7))
            o['bbox_line'] = line_no
            continue
        m = _RE_CENTER.match(line)
        if m:
            o = _object(objs, int(m.group(1)), m.group(2), path, line_no, line)
            o['center'] = (float(m.group(3)), float(m.group(4)))
            continue
        m = _RE_ORIGINAL.match(line)
        if m:
            o = _object(objs, int(m.group(1)), m.group(2), path, line_no, line)
            o['original_label'] = m.group(3)
            continue
        m = _RE_FILENAME.match(line)
        if m:
            once('Image filename', filename, line_no, line)
            filename = (m.group(1), line_no)
            continue
        m = _RE_SIZE.match(line)
        if m:
            once('Image size', size, line_no, line)
            size = (int(m.group(1)), int(m.group(2)), int(m.group(3)), line_no)
            continue
        m = _RE_OBJECTS.match(line)
        if m:
            once('Objects with ground truth', objects_decl, line_no, line)
            objects_decl = (int(m.group(1)), _label_list(m.group(2)), line_no)
            continue
        m = _RE_DATABASE.match(line)
        if m:
            database = m.group(1)
            continue
        if _RE_UNUSED.match(line):
            continue
        raise PascalAnnotationError(
            path, line_no, 'a "PASCAL Annotation Version 1.00" field (Image filename, Image '
            'size (X x Y x C), Objects with ground truth, or Original label / Center point / '
            'Bounding box for object i), a comment (#) or a blank line', line,
            'The file is damaged or not an INRIA Person annotation.')
    where = last_line + 1
    for name, value in (('Image filename : "<Split>/pos/<name>"', filename),
                        ('Image size (X x Y x C) : <w> x <h> x <c>', size),
                        ('Objects with ground truth : <N> { "PASperson" ... }', objects_decl)):
        if value is None:
            raise PascalAnnotationError(path, where, f'a line "{name}"', 'the end of the file',
                                        'The file lacks this field: it is truncated or not an '
                                        'INRIA Person annotation.')
    n, declared, decl_line = objects_decl
    if len(declared) != n:
        raise PascalAnnotationError(
            path, decl_line, f'{n} labels in the braces (the count before them)',
            f'{len(declared)} labels: {declared}', 'The count and the list disagree.')
    missing = [i for i in range(1, n + 1) if 'bbox' not in objs.get(i, {})]
    extra = sorted(i for i in objs if not 1 <= i <= n)
    if missing or extra:
        found = sorted(i for i, o in objs.items() if 'bbox' in o)
        raise PascalAnnotationError(
            path, decl_line, f'{n} objects (numbered 1..{n}), each with a "Bounding box for '
            'object i" line', f'bounding boxes for objects {found}',
            (f'Objects {missing} have no bounding box line. ' if missing else '') +
            (f'Objects {extra} are not declared. ' if extra else '') +
            'The file is truncated or its object count is wrong.')
    objects = []
    for i in range(1, n + 1):
        o = objs[i]
        if o['label'] != declared[i - 1]:
            raise PascalAnnotationError(
                path, o['line'], f'object {i} labelled {declared[i - 1]!r} as declared on '
                f'line {decl_line}', o['label'], 'The object lines and the declaration '
                'disagree.')
        objects.append(PascalObject(i, o['label'], o['bbox'], o['bbox_line'],
                                    o.get('original_label'), o.get('center')))
    return PascalAnnotation(path, filename[0], size[0], size[1], size[2], size[3], declared,
                            objects, database, origin)


def _object(objs: dict, index: int, label: str, path: str, line_no: int, line: str) -> dict:
    o = objs.setdefault(index, dict(label=label, line=line_no))
    if o['label'] != label:
        raise PascalAnnotationError(path, line_no, f'object {index} labelled {o["label"]!r} '
                                    f'as on line {o["line"]}', line,
                                    'Two lines of one object name different labels.')
    return o


def load_pascal_annotation(path: str) -> PascalAnnotation:
    """Reads and parses an annotation file (latin-1, at most :data:`MAX_ANNOTATION_BYTES`).

    Raises:
        FileNotFoundError: the file is missing.
        PascalAnnotationError: see :func:`parse_pascal_annotation`.
    """
    with open(path, 'rb') as f:
        data = f.read(MAX_ANNOTATION_BYTES + 1)
    if len(data) > MAX_ANNOTATION_BYTES:
        raise PascalAnnotationError(path, 1, f'a file of at most {MAX_ANNOTATION_BYTES:,} bytes',
                                    data[:32], 'This is not an INRIA Person annotation.')
    return parse_pascal_annotation(data.decode('latin-1'), path)
