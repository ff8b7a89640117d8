"""A tiny CityPersons release in the real layout and format, for tests and demos.

:func:`make_citypersons_release` writes ``leftImg8bit/{split}/{city}/*_leftImg8bit.png``
and ``gtBboxCityPersons/{split}/{city}/*_gtBboxCityPersons.json`` as cityscapesScripts
writes them (``imgHeight``, ``imgWidth``, ``objects`` with ``label``, ``instanceId``,
``bbox``, ``bboxVis``), so the reader of the real release
(:mod:`hda_plugin.fileio.cityscapes`) is the one exercised. Images are small (the real
ones are 2048x1024) flat grey PNGs with a dark figure in each box.
"""
import json
import os
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from ..fileio.atomic import write_atomic
from ..fileio.cityscapes import annotation_path, image_path

__all__ = ['CityPersonsBox', 'CityPersonsImage', 'TINY_CITYPERSONS', 'citypersons_json',
           'make_citypersons_release']


@dataclass
class CityPersonsBox:
    """One object: ``label``, ``bbox`` and ``bboxVis`` as ``[x, y, w, h]``."""
    label: str
    bbox: Tuple[float, float, float, float]
    bbox_vis: Optional[Tuple[float, float, float, float]] = None  # None: the full box

    def vis(self) -> Tuple[float, float, float, float]:
        return tuple(self.bbox_vis) if self.bbox_vis is not None else tuple(self.bbox)


@dataclass
class CityPersonsImage:
    """One image of a tiny release: ``{city}_{seq}_{frame}`` and its boxes.

    ``json_size`` writes another ``imgWidth``/``imgHeight`` than the PNG's (bad input)."""
    city: str
    seq: int
    frame: int
    boxes: Sequence[CityPersonsBox] = ()
    width: int = 256
    height: int = 128
    json_size: Optional[Tuple[int, int]] = None

    @property
    def stem(self) -> str:
        return f'{self.city}_{self.seq:06d}_{self.frame:06d}'


def _boxes(*rows) -> List[CityPersonsBox]:
    return [CityPersonsBox(*r) for r in rows]


#: The default tiny release: two cities in val, one in train; every label, a box reaching
#: out of the image, one without area and one wholly outside; partly visible persons.
TINY_CITYPERSONS: Dict[str, List[CityPersonsImage]] = {
    'val': [
        CityPersonsImage('frankfurt', 0, 294, _boxes(
            ('pedestrian', (20, 30, 20, 50), (22, 30, 18, 45)),  # visibility 0.81
            ('pedestrian', (240, 40, 30, 60), (240, 40, 16, 60)),  # reaches past x=256
            ('rider', (100, 20, 24, 60)),
            ('ignore', (150, 10, 40, 30)),
        )),
        CityPersonsImage('frankfurt', 0, 576, _boxes(
            ('pedestrian', (60, 40, 16, 40), (60, 40, 16, 10)),  # visibility 0.25
            ('sitting person', (120, 70, 20, 20)),
            ('person group', (160, 50, 60, 40)),
            ('pedestrian', (10, 10, 0, 30)),  # no width: dropped
        )),
        CityPersonsImage('munster', 1, 19, _boxes(
            ('person (other)', (30, 60, 20, 30)),
            ('pedestrian', (300, 20, 20, 40)),  # wholly outside: dropped
        )),
    ],
    'train': [
        CityPersonsImage('aachen', 0, 19, _boxes(
            ('pedestrian', (40, 20, 30, 70), (45, 25, 20, 60)),
            ('pedestrian', (-10, 50, 30, 60)),  # reaches past x=0: clipped in training
            ('ignore', (200, 60, 20, 20)),
        )),
        CityPersonsImage('aachen', 0, 20, _boxes(
            ('pedestrian', (100, 30, 24, 64)),
        )),
    ],
}


def citypersons_json(img: CityPersonsImage) -> str:
    """The ``*_gtBboxCityPersons.json`` text of ``img`` (indented as cityscapesScripts)."""
    w, h = img.json_size if img.json_size is not None else (img.width, img.height)
    objects = [dict(instanceId=(24000 + i) if b.label == 'pedestrian' else 0,
                    bbox=list(b.bbox), bboxVis=list(b.vis()), label=b.label)
               for i, b in enumerate(img.boxes)]
    return json.dumps(dict(imgHeight=h, imgWidth=w, objects=objects), indent=4)


def _draw(img: CityPersonsImage) -> np.ndarray:
    canvas = np.full((img.height, img.width, 3), 150, np.uint8)
    canvas[:img.height // 3] = (200, 170, 140)  # sky, street below
    for b in img.boxes:
        x, y, w, h = (int(round(v)) for v in b.vis())
        if w > 0 and h > 0:
            cv2.rectangle(canvas, (x, y), (x + w - 1, y + h - 1), (40, 40, 60), -1)
    return canvas


def make_citypersons_release(root: str,
                             images: Optional[Dict[str, Sequence[CityPersonsImage]]] = None,
                             write_json: bool = True, write_png: bool = True) -> dict:
    """Writes a tiny CityPersons release under ``root``.

    Args:
        root (str): the release root (``CITYPERSONS_ROOT``).
        images (dict, optional): ``{split: [CityPersonsImage, ...]}``. Defaults to
            :data:`TINY_CITYPERSONS`.
        write_json, write_png (bool): leave out one half of every pair (bad input).

    Returns:
        dict: ``{split: {stem: (png path, json path)}}``.
    """
    images = TINY_CITYPERSONS if images is None else images
    out: Dict[str, Dict[str, Tuple[str, str]]] = {}
    for split, imgs in images.items():
        for img in imgs:
            png = image_path(root, split, img.city, img.stem)
            ann = annotation_path(root, split, img.city, img.stem)
            if write_png:
                _mkdir_for(png)
                ok, data = cv2.imencode('.png', _draw(img))
                write_atomic(data.tobytes(), png)
            if write_json:
                _mkdir_for(ann)
                write_atomic(citypersons_json(img), ann, 'w', encoding='utf-8')
            out.setdefault(split, {})[img.stem] = (png, ann)
    return out


def _mkdir_for(path: str) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
