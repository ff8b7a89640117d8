"""CityPersons, read from the Cityscapes layout as distributed (no conversion step)."""
from collections import OrderedDict
from typing import List, Optional, Sequence

from mmdet.registry import DATASETS

from ..fileio.cityscapes import (
    CITYPERSONS_LAYOUT,
    CityPersonsPair,
    annotation_path,
    image_path,
    list_split,
    load_citypersons_json,
)
from ..fileio.image_header import read_image_shape
from .person import PersonDataset, UnknownLabels, person_instance

__all__ = ['CityPersonsDataset']

#: label -> the summary column of its ignore regions
_IGNORE_COLUMNS = OrderedDict([
    ('rider', 'ignore_rider'), ('sitting person', 'ignore_sitting'),
    ('person (other)', 'ignore_other'), ('person group', 'ignore_group'),
    ('ignore', 'ignore_region')])


@DATASETS.register_module()
class CityPersonsDataset(PersonDataset):
    """CityPersons (Zhang et al., CVPR 2017) on the Cityscapes images, one split.

    Reads ``leftImg8bit/{split}/{city}/*_leftImg8bit.png`` and
    ``gtBboxCityPersons/{split}/{city}/*_gtBboxCityPersons.json`` under ``data_root``
    (naming rules and reader: :mod:`hda_plugin.fileio.cityscapes`).

    Label rules, those of the official evaluation (cvgroup-njust/CityPersons
    ``evaluation/val_gt.json``: every ``pedestrian`` with ``ignore`` 0, every other box with
    ``ignore`` 1) and of the common training recipe (Pedestron's converter):

    - ``pedestrian`` -> person (label 0).
    - ``rider``, ``sitting person``, ``person (other)``, ``person group``, ``ignore``
      (``ignore_labels``) -> ignore regions (``ignore_flag=1``), counted per label.
    - any other label: an error listing every unknown label with its count and first file.
    - ``visibility`` = area(``bboxVis``) / area(``bbox``), as the official ``vis_ratio``
      (Dollár's visible fraction); ``bboxVis`` is always present in the format (a file
      without it is refused), a zero-area one gives 0.
    - boxes: in training clipped to the image (``clipped``); in test mode kept as
      annotated, as the official script scores them (counted as ``clipped`` all the same);
      a box without area, or wholly outside the image, is dropped and counted.
    - each image's ``imgWidth``/``imgHeight`` must agree with its PNG's header.
    - ``camera`` (the group of per-group metrics and of the load summary) is the city.

    Args:
        data_root (str): the folder holding ``leftImg8bit/`` and ``gtBboxCityPersons/``.
        split (str): ``'train'``, ``'val'`` (the test split of papers: the official test
            annotations are withheld). Defaults to ``'train'``.
        cities (Sequence[str], optional): read only these cities. Defaults to all.
        clip (bool, optional): clip boxes to the image; None: clip in training, keep in
            test mode. Defaults to None.
        person_labels (Sequence[str]): labels made persons. Defaults to ``('pedestrian',)``.
        ignore_labels (Sequence[str]): labels made ignore regions. Defaults to the other
            five labels of the release.
        unpaired (str): an image without its JSON or a JSON without its image: ``'error'``
            or ``'skip'`` (counted as ``unpaired``). Defaults to ``'error'``.
        img_dir (str): image folder. Defaults to ``'leftImg8bit'``.
        ann_dir (str): annotation folder. Defaults to ``'gtBboxCityPersons'``.
        **kwargs: passed to :class:`mmdet.datasets.BaseDetDataset` (``pipeline``,
            ``filter_cfg``, ``test_mode``, ...).
    """
    summary_columns = ('images', 'persons') + tuple(_IGNORE_COLUMNS.values()) + (
        'ignore_custom', 'clipped', 'zero_area', 'outside', 'unpaired')
    summary_legend = (
        'persons: pedestrian boxes, trained/scored as person; ignore_*: rider, sitting '
        'person, person (other), person group, ignore',
        '(ignore_custom: other labels given in ignore_labels) as ignore regions; clipped: '
        'reaching out of the image (cut in training, kept in test mode);',
        'zero_area, outside: dropped (no area inside the image); unpaired: an image or JSON '
        'without its pair, skipped. Each box counts once (clipped: also as kept).')
    summary_group_title = 'city'

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 cities: Optional[Sequence[str]] = None,
                 clip: Optional[bool] = None,
                 person_labels: Sequence[str] = ('pedestrian', ),
                 ignore_labels: Sequence[str] = tuple(_IGNORE_COLUMNS),
                 unpaired: str = 'error',
                 img_dir: str = CITYPERSONS_LAYOUT['img'],
                 ann_dir: str = CITYPERSONS_LAYOUT['ann'],
                 **kwargs):
        if unpaired not in ('error', 'skip'):
            raise ValueError(f'unpaired={unpaired!r}: expected "error" or "skip".')
        both = set(person_labels) & set(ignore_labels)
        if both:
            raise ValueError(f'CityPersonsDataset: labels {sorted(both)} are in both '
                             'person_labels and ignore_labels; give each label one role.')
        self.split = split
        self.cities = list(cities) if cities is not None else None
        self.clip = clip
        self.person_labels = tuple(person_labels)
        self.ignore_labels = tuple(ignore_labels)
        self.unpaired = unpaired
        self.img_dir, self.ann_dir = img_dir, ann_dir
        super().__init__(data_root=data_root, ann_file='', **kwargs)

    def load_data_list(self) -> List[dict]:
        clip = (not self.test_mode) if self.clip is None else bool(self.clip)
        pairs = list_split(self.data_root, self.split, self.img_dir, self.ann_dir,
                           self.cities)
        anns = []
        for pair in pairs:
            counts = self.summary.group(pair.city)
            if pair.img_path is None or pair.ann_path is None:
                self._unpaired(pair)
                counts['unpaired'] += 1
                continue
            anns.append((pair, load_citypersons_json(pair.ann_path)))
        self._check_labels(anns)
        data_list = []
        for pair, ann in anns:
            counts = self.summary.group(pair.city)
            height, width = read_image_shape(pair.img_path)
            if (height, width) != (ann.img_height, ann.img_width):
                raise ValueError(
                    f'{pair.ann_path}: imgWidth x imgHeight {ann.img_width}x{ann.img_height} '
                    f'disagrees with its image {pair.img_path}, {width}x{height} (PNG '
                    'header): one of the two is from another release or was resized; copy '
                    'the original leftImg8bit and gtBboxCityPersons files again.')
            instances = []
            for obj in ann.objects:
                ignore = obj.label not in self.person_labels
                inst = person_instance(obj.bbox, width, height, counts, ignore,
                                       _visible_fraction(obj.bbox, obj.bbox_vis), clip)
                if inst is None:  # counted as zero_area / outside
                    continue
                counts[_IGNORE_COLUMNS.get(obj.label, 'ignore_custom') if ignore
                       else 'persons'] += 1
                instances.append(inst)
            counts['images'] += 1
            data_list.append(dict(img_path=pair.img_path, img_id=pair.stem, camera=pair.city,
                                  height=height, width=width, instances=instances))
        return data_list

    def _unpaired(self, pair: CityPersonsPair) -> None:
        if self.unpaired == 'skip':
            return
        if pair.img_path is None:
            have, lack = pair.ann_path, image_path(self.data_root, self.split, pair.city,
                                                   pair.stem, self.img_dir)
        else:
            have, lack = pair.img_path, annotation_path(self.data_root, self.split,
                                                        pair.city, pair.stem, self.ann_dir)
        raise FileNotFoundError(
            f'{have} has no pair: {lack} does not exist. Unpack both '
            'leftImg8bit_trainvaltest.zip and gtBbox_cityPersons_trainval.zip into the same '
            "root, or set unpaired='skip' to count and skip such files.")

    def _check_labels(self, anns) -> None:
        """One error listing every unknown label of the split (count, first file)."""
        known = set(self.person_labels) | set(self.ignore_labels)
        unknown = UnknownLabels()
        for pair, ann in anns:
            for obj in ann.objects:
                if obj.label not in known:
                    unknown.add(obj.label, f'{ann.path}: objects[{obj.index}]')
        if unknown:
            raise unknown.error(
                f'CityPersonsDataset ({self.split})', f'{list(self.person_labels)} (persons) '
                f'or {list(self.ignore_labels)} (ignore regions)', 'ignore_labels',
                self.ignore_labels)


def _visible_fraction(bbox, bbox_vis) -> float:
    """area(``bboxVis``) / area(``bbox``), the official ``vis_ratio``; 0 for a box without
    area (the box itself is then dropped)."""
    area = bbox[2] * bbox[3]
    if area <= 0:
        return 0.0
    return max(bbox_vis[2], 0.) * max(bbox_vis[3], 0.) / area
