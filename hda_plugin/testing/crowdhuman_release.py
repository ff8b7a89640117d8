"""A tiny CrowdHuman release in the real layout and format, for tests and demos.

:func:`make_crowdhuman_release` writes ``annotation_{split}.odgt`` (one JSON record per
line: ``ID``, ``gtboxes`` with ``tag``, ``fbox``, ``vbox``, ``hbox``, ``extra``,
``head_attr``) and ``Images/<ID>.jpg``, so the reader of the real release
(:mod:`hda_plugin.fileio.odgt`) is the one exercised. Images are small flat grey JPEGs
with a dark figure in each visible box.
"""
import json
import os
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from ..fileio.atomic import write_atomic
from ..fileio.odgt import CROWDHUMAN_LAYOUT, crowdhuman_image_path, odgt_filename

__all__ = ['CrowdHumanBox', 'CrowdHumanImage', 'TINY_CROWDHUMAN', 'odgt_line',
           'make_crowdhuman_release']


@dataclass
class CrowdHumanBox:
    """One entry of ``gtboxes``; boxes ``[x, y, w, h]``; ``vbox`` None: the ``fbox``;
    ``ignore`` written as ``extra.ignore``."""
    tag: str
    fbox: Tuple[float, float, float, float]
    vbox: Optional[Tuple[float, float, float, float]] = None
    ignore: int = 0

    def as_dict(self, box_id: int) -> dict:
        x, y, w, h = self.fbox
        vbox = list(self.vbox) if self.vbox is not None else list(self.fbox)
        d = dict(tag=self.tag, fbox=list(self.fbox), vbox=vbox,
                 hbox=[x + w * 0.35, y, w * 0.3, h * 0.15],
                 extra=dict(box_id=box_id, occ=int(vbox != list(self.fbox))),
                 head_attr=dict(ignore=0, occ=0, unsure=0))
        d['extra']['ignore'] = int(bool(self.ignore) or self.tag == 'mask')
        return d


@dataclass
class CrowdHumanImage:
    """One image: its ``ID``, size and boxes."""
    id: str
    boxes: Sequence[CrowdHumanBox] = ()
    width: int = 200
    height: int = 160


def _b(*args) -> CrowdHumanBox:
    return CrowdHumanBox(*args)


#: The default tiny release: persons (one partly visible, one whose vbox reaches past its
#: fbox, one reaching out of the image), a mask region, a person with ``extra.ignore``,
#: a box without area and one wholly outside.
TINY_CROWDHUMAN: Dict[str, List[CrowdHumanImage]] = {
    'val': [
        CrowdHumanImage('273271,c9db000d5146c15', [
            _b('person', (20, 20, 40, 100), (20, 20, 40, 50)),  # visibility 0.5
            _b('person', (170, 30, 50, 100), (170, 30, 30, 100)),  # past x=200
            _b('mask', (100, 10, 60, 40)),
        ]),
        CrowdHumanImage('273275,4e9d1000623d253e', [
            _b('person', (50, 40, 20, 80), (45, 40, 30, 40)),  # vbox wider than fbox
            _b('person', (100, 30, 30, 90), None, 1),  # extra.ignore
            _b('person', (10, 10, 30, 0)),  # no height: dropped
        ], width=240, height=180),
        CrowdHumanImage('284193,faa9000f2678b5e', [
            _b('person', (60, 20, 30, 100)),
            _b('person', (-80, 10, 40, 60)),  # wholly outside: dropped
        ]),
    ],
    'train': [
        CrowdHumanImage('273278,c9db000d5146c16', [
            _b('person', (-10, 20, 40, 100), (0, 20, 30, 100)),  # clipped in training
            _b('mask', (120, 10, 60, 40)),
        ]),
        CrowdHumanImage('273279,c9db000d5146c17', [
            _b('person', (80, 30, 30, 90)),
        ]),
    ],
}


def odgt_line(img: CrowdHumanImage) -> str:
    """The ``.odgt`` line of ``img`` (no line end)."""
    return json.dumps(dict(ID=img.id, gtboxes=[b.as_dict(i) for i, b in
                                               enumerate(img.boxes)]))


def _draw(img: CrowdHumanImage) -> np.ndarray:
    canvas = np.full((img.height, img.width, 3), 160, np.uint8)
    for b in img.boxes:
        x, y, w, h = (int(round(v)) for v in (b.vbox or b.fbox))
        if w > 0 and h > 0:
            cv2.rectangle(canvas, (x, y), (x + w - 1, y + h - 1), (50, 40, 40), -1)
    return canvas


def make_crowdhuman_release(root: str,
                            images: Optional[Dict[str, Sequence[CrowdHumanImage]]] = None,
                            lines: Optional[Dict[str, Sequence[str]]] = None) -> dict:
    """Writes a tiny CrowdHuman release under ``root``.

    Args:
        root (str): the release root (``CROWDHUMAN_ROOT``).
        images (dict, optional): ``{split: [CrowdHumanImage, ...]}``. Defaults to
            :data:`TINY_CROWDHUMAN`.
        lines (dict, optional): ``{split: [line, ...]}`` written as the ``.odgt`` in place
            of the images' lines (bad input); the images are written all the same.

    Returns:
        dict: ``{split: .odgt path}``.
    """
    images = TINY_CROWDHUMAN if images is None else images
    img_root = osp.join(root, CROWDHUMAN_LAYOUT['img'])
    os.makedirs(img_root, exist_ok=True)
    out = {}
    for split, imgs in images.items():
        for img in imgs:
            ok, data = cv2.imencode('.jpg', _draw(img), [cv2.IMWRITE_JPEG_QUALITY, 90])
            write_atomic(data.tobytes(), crowdhuman_image_path(img_root, img.id))
        text = (lines or {}).get(split)
        if text is None:
            text = [odgt_line(img) for img in imgs]
        out[split] = osp.join(root, odgt_filename(split))
        write_atomic(''.join(t + '\n' for t in text), out[split], 'w', encoding='utf-8')
    return out
