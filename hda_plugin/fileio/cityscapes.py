"""CityPersons as distributed on the Cityscapes layout: the naming rules of the release
(images, annotation files, cities, splits), in one place, and the reader of its
``*_gtBboxCityPersons.json`` files.

Layout under a release root (``CITYPERSONS_ROOT``)::

    leftImg8bit/{split}/{city}/{city}_{seq}_{frame}_leftImg8bit.png
    gtBboxCityPersons/{split}/{city}/{city}_{seq}_{frame}_gtBboxCityPersons.json

An image and its annotation share the stem ``{city}_{seq}_{frame}`` (the ``img_id``) and
the city folder; the city is the folder's name. A JSON file is ``{"imgHeight",
"imgWidth", "objects": [{"label", "bbox": [x, y, w, h], "bboxVis": [x, y, w, h],
"instanceId"}]}`` (cityscapesScripts' ``CsBbox2d``); the labels are
:data:`CITYPERSONS_LABELS`.
"""
import json
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

__all__ = ['CITYPERSONS_LAYOUT', 'CITYPERSONS_LABELS', 'IMG_SUFFIX', 'ANN_SUFFIX',
           'CityPersonsFormatError', 'CityPersonsObject', 'CityPersonsAnnotation',
           'CityPersonsPair', 'image_path', 'annotation_path', 'list_split',
           'load_citypersons_json', 'parse_citypersons_json']

#: Folders of a release, relative to its root.
CITYPERSONS_LAYOUT = dict(img='leftImg8bit', ann='gtBboxCityPersons')
IMG_SUFFIX = '_leftImg8bit.png'
ANN_SUFFIX = '_gtBboxCityPersons.json'

#: The labels of the release's boxes (cityscapesScripts; the ``.mat`` classes 1-5 and 0).
CITYPERSONS_LABELS = ('pedestrian', 'rider', 'sitting person', 'person (other)',
                      'person group', 'ignore')

_NUMBER = (int, float)


class CityPersonsFormatError(ValueError):
    """A ``*_gtBboxCityPersons.json`` file that does not read: the message names the file,
    the place (line and column, or object index and key), what was expected and the fix."""


@dataclass
class CityPersonsObject:
    """One box of an annotation file. ``index`` is its place in ``objects`` (0-based)."""
    index: int
    label: str
    bbox: Tuple[float, float, float, float]  # x, y, w, h of the full body
    bbox_vis: Tuple[float, float, float, float]  # x, y, w, h of the visible part
    instance_id: Optional[int] = None


@dataclass
class CityPersonsAnnotation:
    """One ``*_gtBboxCityPersons.json`` file."""
    path: str
    img_height: int
    img_width: int
    objects: List[CityPersonsObject] = field(default_factory=list)


@dataclass
class CityPersonsPair:
    """An image of a split and its annotation file (either may be None when missing)."""
    city: str
    stem: str  # {city}_{seq}_{frame}, the img_id
    img_path: Optional[str]
    ann_path: Optional[str]


def image_path(root: str, split: str, city: str, stem: str,
               img_dir: str = CITYPERSONS_LAYOUT['img']) -> str:
    """``root/leftImg8bit/{split}/{city}/{stem}_leftImg8bit.png``."""
    return osp.join(root, img_dir, split, city, stem + IMG_SUFFIX)


def annotation_path(root: str, split: str, city: str, stem: str,
                    ann_dir: str = CITYPERSONS_LAYOUT['ann']) -> str:
    """``root/gtBboxCityPersons/{split}/{city}/{stem}_gtBboxCityPersons.json``."""
    return osp.join(root, ann_dir, split, city, stem + ANN_SUFFIX)


def _stems(folder: str, suffix: str) -> Dict[str, List[str]]:
    """``{city: [stem, ...]}`` of the files ending in ``suffix`` in ``folder/<city>/``."""
    out: Dict[str, List[str]] = {}
    if not osp.isdir(folder):
        return out
    for city in sorted(os.listdir(folder)):
        city_dir = osp.join(folder, city)
        if osp.isdir(city_dir):
            out[city] = sorted(n[:-len(suffix)] for n in os.listdir(city_dir)
                               if n.endswith(suffix))
    return out


def list_split(root: str, split: str, img_dir: str = CITYPERSONS_LAYOUT['img'],
               ann_dir: str = CITYPERSONS_LAYOUT['ann'],
               cities: Optional[Sequence[str]] = None) -> List[CityPersonsPair]:
    """Every image and annotation file of ``split``, paired by city and stem, sorted by
    city then stem; a file without its pair comes with the other path None.

    Raises:
        FileNotFoundError: neither ``leftImg8bit/{split}`` nor
            ``gtBboxCityPersons/{split}`` exists, or a city of ``cities`` has neither.
    """
    img_root = osp.join(root, img_dir, split)
    ann_root = osp.join(root, ann_dir, split)
    if not osp.isdir(img_root) and not osp.isdir(ann_root):
        raise FileNotFoundError(
            f'CityPersons split {split!r}: neither {img_root} nor {ann_root} exists. '
            'Set CITYPERSONS_ROOT to the folder holding leftImg8bit/ and gtBboxCityPersons/ '
            '(leftImg8bit_trainvaltest.zip and gtBbox_cityPersons_trainval.zip unpacked '
            'there), and the split to train or val.')
    imgs, anns = _stems(img_root, IMG_SUFFIX), _stems(ann_root, ANN_SUFFIX)
    found = sorted(set(imgs) | set(anns))
    if cities is not None:
        absent = [c for c in cities if c not in found]
        if absent:
            raise FileNotFoundError(
                f'CityPersons split {split!r}: no city {absent} under {img_root} or '
                f'{ann_root}; the cities there are {found}.')
        found = [c for c in found if c in set(cities)]
    pairs = []
    for city in found:
        have_img, have_ann = set(imgs.get(city, ())), set(anns.get(city, ()))
        for stem in sorted(have_img | have_ann):
            pairs.append(CityPersonsPair(
                city, stem,
                image_path(root, split, city, stem, img_dir) if stem in have_img else None,
                annotation_path(root, split, city, stem, ann_dir) if stem in have_ann
                else None))
    return pairs


def load_citypersons_json(path: str) -> CityPersonsAnnotation:
    """Reads a ``*_gtBboxCityPersons.json`` file (plain JSON: nothing in it runs)."""
    with open(path, 'rb') as f:
        data = f.read()
    return parse_citypersons_json(data, path)


def _reject_constant(name):
    raise ValueError(f'{name} is not a number a box may hold')


def parse_citypersons_json(data: bytes, path: str = '<bytes>') -> CityPersonsAnnotation:
    """Parses the bytes of a ``*_gtBboxCityPersons.json`` file named ``path``.

    Raises:
        CityPersonsFormatError: invalid JSON (with its line and column), a missing key
            (with the object index), or a value of the wrong type or length.
    """
    try:
        text = data.decode('utf-8')
        doc = json.loads(text, parse_constant=_reject_constant)
    except UnicodeDecodeError as e:
        raise CityPersonsFormatError(
            f'{path}: byte {e.start} is not UTF-8: expected a JSON text; the file is '
            'corrupt or not an annotation file: unpack gtBbox_cityPersons_trainval.zip '
            'again.') from None
    except json.JSONDecodeError as e:
        raise CityPersonsFormatError(
            f'{path}:{e.lineno}:{e.colno}: invalid JSON ({e.msg}); the file is cut short '
            'or edited by hand: unpack gtBbox_cityPersons_trainval.zip again.') from None
    except ValueError as e:  # NaN / Infinity
        raise CityPersonsFormatError(f'{path}: invalid JSON value: {e}.') from None
    if not isinstance(doc, dict):
        raise CityPersonsFormatError(
            f'{path}: expected a JSON object with imgHeight, imgWidth and objects, got a '
            f'{type(doc).__name__}.')
    for key in ('imgHeight', 'imgWidth', 'objects'):
        if key not in doc:
            raise CityPersonsFormatError(
                f'{path}: missing key {key!r}: a CityPersons annotation holds imgHeight, '
                f'imgWidth and objects (found keys {sorted(doc)}).')
    height, width = doc['imgHeight'], doc['imgWidth']
    for key, v in (('imgHeight', height), ('imgWidth', width)):
        if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
            raise CityPersonsFormatError(
                f'{path}: {key} must be a positive integer (pixels), got {v!r}.')
    if not isinstance(doc['objects'], list):
        raise CityPersonsFormatError(
            f'{path}: objects must be a list, got {type(doc["objects"]).__name__}.')
    objects = [_object(o, i, path) for i, o in enumerate(doc['objects'])]
    return CityPersonsAnnotation(path, height, width, objects)


def _object(o, i: int, path: str) -> CityPersonsObject:
    where = f'{path}: objects[{i}]'
    if not isinstance(o, dict):
        raise CityPersonsFormatError(f'{where}: expected a JSON object, got '
                                     f'{type(o).__name__}.')
    for key in ('label', 'bbox', 'bboxVis'):
        if key not in o:
            raise CityPersonsFormatError(
                f'{where}: missing key {key!r}: every object needs label, bbox and bboxVis '
                f'(found keys {sorted(o)}); the file is not as distributed: unpack '
                'gtBbox_cityPersons_trainval.zip again.')
    if not isinstance(o['label'], str):
        raise CityPersonsFormatError(f'{where}: label must be a string, got {o["label"]!r}.')
    boxes = [_box(o[key], f'{where}.{key}') for key in ('bbox', 'bboxVis')]
    iid = o.get('instanceId')
    return CityPersonsObject(i, o['label'], boxes[0], boxes[1],
                             iid if isinstance(iid, int) else None)


def _box(v, where: str) -> Tuple[float, float, float, float]:
    if not (isinstance(v, list) and len(v) == 4
            and all(isinstance(x, _NUMBER) and not isinstance(x, bool) for x in v)):
        raise CityPersonsFormatError(f'{where}: expected [x, y, w, h] (4 numbers), got {v!r}.')
    return tuple(float(x) for x in v)
