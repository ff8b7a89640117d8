"""INRIA Person (Dalal and Triggs), read from the ``INRIAPerson`` folder as distributed."""
import os.path as osp
from typing import List, Optional, Sequence

from mmdet.registry import DATASETS

from ..fileio.image_header import read_image_shape
from ..fileio.inria import (
    INRIA_PERSON_LABEL,
    annotation_rel_path,
    load_pascal_annotation,
    read_list,
)
from .person import PersonDataset, UnknownLabels, person_instance

__all__ = ['INRIAPersonDataset']


@DATASETS.register_module()
class INRIAPersonDataset(PersonDataset):
    """The INRIA Person data set: ``<Split>/pos.lst`` images with their "PASCAL Annotation
    Version 1.00" files, and ``<Split>/neg.lst`` images, which hold no person.

    Label rules (counted in the load summary, nothing dropped silently):

    - ``PASperson`` -> class ``person`` (label 0): the release annotates upright persons
      taller than about 100 px; others in the image are unannotated (no ignore regions).
    - labels in ``ignore_labels`` -> ignore regions (``ignore_flag=1``, ``ignore_label``).
    - any other label raises one error listing every such label with its first file and
      line.
    - negatives (``neg.lst``) -> images without instances: background to learn from. With
      ``filter_cfg=dict(filter_empty_gt=True)`` a training set drops every one of them
      (counted in the summary's last line): the INRIA configs set ``filter_empty_gt=False``.
    - boxes: ``(Xmin, Ymin) - (Xmax, Ymax)`` becomes ``[Xmin, Ymin, Xmax, Ymax]`` (width
      ``Xmax - Xmin``), less the file's ``# Top left pixel co-ordinates`` (``(0, 0)`` in
      the release). Dollár's toolbox, which made the INRIA ground truth of the published
      curves and trained ``AcfInria``, reads PASCAL boxes so (``bbGt>bbLoad``:
      ``bb(3)=bb(3)-bb(1)``); an inclusive ``Xmax`` would add one pixel, under 1 % of the
      release's boxes (>= 100 px tall). Boxes reaching out of the image are clipped
      (``clipped``); ones without area inside it are dropped (``zero_area``, ``outside``).
    - no ``visibility`` key: the format has no visible box. ``CaltechMetric`` then counts
      every person as "posv not set" (unoccluded), as Dollár's INRIA vbb files do, and
      says so in its log.

    Checks naming the file and line: the ``.lst`` lines, each annotation's ``Image
    filename`` against its ``pos.lst`` entry, ``Image size (X x Y x C)`` against the
    image's PNG/JPEG header (read without decoding), and ``pos.lst`` against
    ``annotations.lst``.

    Args:
        data_root (str): the ``INRIAPerson`` folder.
        split (str): ``'Train'`` or ``'Test'``. Defaults to ``'Train'``.
        negatives (bool, optional): add the ``neg.lst`` images. None: for ``Train`` only;
            Dollár's ``InriaTest`` scores the 288 positive test images alone (false
            positives per image over those). Defaults to None.
        ignore_labels (Sequence[str]): labels made ignore regions. Defaults to ``()``.
        **kwargs: passed to :class:`mmdet.datasets.BaseDetDataset` (``pipeline``,
            ``filter_cfg``, ``test_mode``, ...).
    """
    summary_columns = ('images', 'positives', 'negatives', 'persons', 'ignore_label',
                       'clipped', 'zero_area', 'outside')
    summary_legend = (
        'positives: pos.lst images (annotated); negatives: neg.lst images (no person); '
        'persons: PASperson boxes; ignore_label: boxes of ignore_labels (ignore regions); '
        'clipped: cut to the image; zero_area, outside: dropped (no area inside the image).',)
    summary_group_title = 'split'

    def __init__(self, data_root: str, split: str = 'Train', negatives: Optional[bool] = None,
                 ignore_labels: Sequence[str] = (), **kwargs):
        if split not in ('Train', 'Test'):
            raise ValueError(f"INRIAPersonDataset: split={split!r}: expected 'Train' or "
                             "'Test' (the release's folder names).")
        self.split = split
        self.negatives = split == 'Train' if negatives is None else bool(negatives)
        self.ignore_labels = tuple(ignore_labels)
        if INRIA_PERSON_LABEL in self.ignore_labels:
            raise ValueError(f'INRIAPersonDataset: ignore_labels={list(self.ignore_labels)} '
                             f'holds {INRIA_PERSON_LABEL!r}, the person label.')
        super().__init__(data_root=data_root, ann_file='', **kwargs)

    def load_data_list(self) -> List[dict]:
        root = self.data_root
        counts = self.summary.group(self.split)
        pos = read_list(root, self.split, 'pos')
        self._check_annotation_list(pos)
        data_list, unknown = [], UnknownLabels()
        for entry in pos:
            ann_path = osp.join(root, annotation_rel_path(entry.rel_path))
            ann = load_pascal_annotation(ann_path)
            if ann.filename.replace('\\', '/') != entry.rel_path:
                raise ValueError(
                    f'{ann_path}: "Image filename" is {ann.filename!r} but the annotation '
                    f'belongs to {entry.rel_path!r} (pos.lst line {entry.line_no}). Fix the '
                    'annotation or the list.')
            img_path = self._image(entry, 'pos')
            height, width = read_image_shape(img_path)
            if (width, height) != (ann.width, ann.height):
                raise ValueError(
                    f'{ann_path}:{ann.size_line}: "Image size (X x Y x C)" says {ann.width} x '
                    f'{ann.height} but {img_path} is {width} x {height} (its header): the '
                    'image or the annotation was replaced or resized. Restore the release\'s '
                    'file.')
            instances = []
            for obj in ann.objects:
                if obj.label != INRIA_PERSON_LABEL and obj.label not in self.ignore_labels:
                    unknown.add(obj.label, f'{ann_path}:{obj.line_no}')
                    continue
                ignore = obj.label != INRIA_PERSON_LABEL
                x1, y1, x2, y2 = obj.bbox
                inst = person_instance([x1 - ann.origin[0], y1 - ann.origin[1], x2 - x1,
                                        y2 - y1], width, height, counts, ignore=ignore)
                if inst is not None:
                    counts['ignore_label' if ignore else 'persons'] += 1
                    instances.append(inst)
            counts['images'] += 1
            counts['positives'] += 1
            data_list.append(self._info(entry.rel_path, img_path, width, height, instances))
        if unknown:
            raise unknown.error(
                f'INRIAPersonDataset ({root}, {self.split})', f'{INRIA_PERSON_LABEL!r}' +
                (f' or one of ignore_labels={list(self.ignore_labels)}' if self.ignore_labels
                 else ''), 'ignore_labels', self.ignore_labels)
        if self.negatives:
            for entry in read_list(root, self.split, 'neg'):
                img_path = self._image(entry, 'neg')
                height, width = read_image_shape(img_path)
                counts['images'] += 1
                counts['negatives'] += 1
                data_list.append(self._info(entry.rel_path, img_path, width, height, []))
        return data_list

    def _info(self, rel: str, img_path: str, width: int, height: int, instances) -> dict:
        return dict(img_path=img_path, img_id=rel, camera=self.split, height=height,
                    width=width, instances=instances)

    def _image(self, entry, kind: str) -> str:
        img_path = osp.join(self.data_root, entry.rel_path)
        if not osp.isfile(img_path):
            raise FileNotFoundError(
                f'{osp.join(self.data_root, self.split, kind + ".lst")}:{entry.line_no}: '
                f'{entry.rel_path} is listed but {img_path} does not exist. Restore the file '
                'from the release, or remove the line.')
        return img_path

    def _check_annotation_list(self, pos) -> None:
        """``annotations.lst`` names exactly the annotations of ``pos.lst``'s images."""
        listed = {e.rel_path for e in read_list(self.data_root, self.split, 'annotations')}
        wanted = {annotation_rel_path(e.rel_path) for e in pos}
        if listed != wanted:
            lst = osp.join(self.data_root, self.split, 'annotations.lst')
            raise ValueError(
                f'{lst}: does not match pos.lst: annotations of no listed image '
                f'{sorted(listed - wanted)[:5]}, images without a listed annotation '
                f'{sorted(wanted - listed)[:5]} (the annotation of <Split>/pos/<name>.<ext> '
                'is <Split>/annotations/<name>.txt). Restore the lists from the release.')
