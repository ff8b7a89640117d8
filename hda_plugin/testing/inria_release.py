"""A tiny INRIA Person release in the real layout and format, for tests and demos.

:func:`make_inria_release` writes ``INRIAPerson/{Train,Test}/{pos,neg,annotations}``, the
three ``.lst`` files of each split and "PASCAL Annotation Version 1.00" files in latin-1
(the ``Database`` line spells "Rhône-Alpes"), so the reader of the real release
(:mod:`hda_plugin.fileio.inria`) is the one exercised. Images are flat grey with a dark
figure in each box: PNG for the positives, PNG and JPEG for the negatives.
"""
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from ..fileio.atomic import write_atomic
from ..fileio.inria import INRIA_PERSON_LABEL, annotation_rel_path

__all__ = ['InriaImage', 'TINY_INRIA', 'pascal_annotation_text', 'make_inria_release']


@dataclass
class InriaImage:
    """One image of a tiny release.

    Attributes:
        name: file name in ``<Split>/pos`` or ``<Split>/neg`` (its extension picks PNG/JPEG).
        width, height: the image size.
        boxes: ``(Xmin, Ymin, Xmax, Ymax)`` as the annotation writes them.
        labels: one per box; None: all ``PASperson``.
    """
    name: str
    width: int
    height: int
    boxes: Sequence[Tuple[int, int, int, int]] = ()
    labels: Optional[Sequence[str]] = None

    def box_labels(self) -> List[str]:
        return list(self.labels) if self.labels is not None else \
            [INRIA_PERSON_LABEL] * len(self.boxes)


@dataclass
class InriaSplit:
    """The positive and negative images of one split."""
    pos: List[InriaImage] = field(default_factory=list)
    neg: List[InriaImage] = field(default_factory=list)


#: The default tiny release: Train 2 positives (3 persons, one reaching past the right
#: edge) and 2 negatives (PNG, JPEG); Test 2 positives (3 persons) and 1 negative.
TINY_INRIA: Dict[str, InriaSplit] = {
    'Train': InriaSplit(
        pos=[InriaImage('crop001001.png', 200, 240, [(20, 30, 80, 200), (150, 40, 230, 230)]),
             InriaImage('crop001002.png', 160, 200, [(40, 20, 100, 180)])],
        neg=[InriaImage('00000002a.png', 120, 100), InriaImage('00000003a.jpg', 128, 96)]),
    'Test': InriaSplit(
        pos=[InriaImage('crop001501.png', 180, 220, [(10, 10, 70, 170), (90, 30, 150, 210)]),
             InriaImage('crop001502.png', 150, 190, [(30, 15, 90, 175)])],
        neg=[InriaImage('00001147.png', 110, 90)]),
}


def pascal_annotation_text(filename: str, width: int, height: int,
                           boxes: Sequence[Tuple[int, int, int, int]],
                           labels: Optional[Sequence[str]] = None, channels: int = 3) -> str:
    """The text of an annotation file as the release writes it (the head centre put at the
    top third of each box's width, a fifth of its height)."""
    labels = list(labels) if labels is not None else [INRIA_PERSON_LABEL] * len(boxes)
    lines = ['# PASCAL Annotation Version 1.00', '',
             f'Image filename : "{filename}"',
             f'Image size (X x Y x C) : {width} x {height} x {channels}',
             'Database : "The INRIA Rhône-Alpes Annotated Person Database"',
             f'Objects with ground truth : {len(boxes)} {{ ' +
             ''.join(f'"{lbl}" ' for lbl in labels) + '}', '',
             '# Note that there might be other objects in the image',
             '# for which ground truth data has not been provided.', '',
             '# Top left pixel co-ordinates : (0, 0)', '']
    for i, ((x1, y1, x2, y2), lbl) in enumerate(zip(boxes, labels), 1):
        cx, cy = (x1 + x2) // 2, y1 + (y2 - y1) // 5
        lines += [f'# Details for object {i} ("{lbl}")',
                  '# Center point -- not available in other PASCAL databases -- refers',
                  '# to person head center',
                  f'Original label for object {i} "{lbl}" : "UprightPerson"',
                  f'Center point on object {i} "{lbl}" (X, Y) : ({cx}, {cy})',
                  f'Bounding box for object {i} "{lbl}" (Xmin, Ymin) - (Xmax, Ymax) : '
                  f'({x1}, {y1}) - ({x2}, {y2})', '']
    return '\n'.join(lines)


def _image_bytes(img: InriaImage) -> bytes:
    arr = np.full((img.height, img.width, 3), 170, np.uint8)
    for x1, y1, x2, y2 in img.boxes:
        cv2.rectangle(arr, (int(x1) + 4, int(y1) + 4), (int(x2) - 4, int(y2) - 4),
                      (40, 50, 60), -1)
    ext = osp.splitext(img.name)[1].lower()
    ok, buf = cv2.imencode('.jpg' if ext in ('.jpg', '.jpeg') else '.png', arr)
    if not ok:
        raise ValueError(f'cannot encode {img.name}')
    return buf.tobytes()


def make_inria_release(out_dir: str, splits: Optional[Dict[str, InriaSplit]] = None) -> str:
    """Writes a tiny INRIA Person release; returns its ``INRIAPerson`` folder.

    Args:
        out_dir (str): folder to create ``INRIAPerson/`` in.
        splits (dict, optional): split name -> :class:`InriaSplit`. Defaults to
            :data:`TINY_INRIA`.
    """
    splits = TINY_INRIA if splits is None else splits
    root = osp.join(out_dir, 'INRIAPerson')
    for split, content in splits.items():
        for sub in ('pos', 'neg', 'annotations'):
            os.makedirs(osp.join(root, split, sub), exist_ok=True)
        lists: Dict[str, List[str]] = dict(pos=[], neg=[], annotations=[])
        for img in content.pos:
            rel = f'{split}/pos/{img.name}'
            ann_rel = annotation_rel_path(rel)
            write_atomic(_image_bytes(img), osp.join(root, rel))
            text = pascal_annotation_text(rel, img.width, img.height, img.boxes,
                                          img.box_labels())
            write_atomic(text.encode('latin-1'), osp.join(root, ann_rel))
            lists['pos'].append(rel)
            lists['annotations'].append(ann_rel)
        for img in content.neg:
            rel = f'{split}/neg/{img.name}'
            write_atomic(_image_bytes(img), osp.join(root, rel))
            lists['neg'].append(rel)
        for kind, names in lists.items():
            write_atomic(''.join(n + '\n' for n in names).encode('latin-1'),
                         osp.join(root, split, f'{kind}.lst'))
    return root
