"""CrowdHuman, read from ``annotation_{split}.odgt`` and ``Images/<ID>.jpg`` as
distributed, on the person label map of every hda-ssd data set."""
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

from mmdet.registry import DATASETS

from ..fileio.image_header import read_image_shape
from ..fileio.odgt import CROWDHUMAN_LAYOUT, crowdhuman_image_path, load_odgt, odgt_filename
from .person import PersonDataset, UnknownLabels, person_instance

__all__ = ['CrowdHumanPersonDataset']


@DATASETS.register_module()
class CrowdHumanPersonDataset(PersonDataset):
    """CrowdHuman (Shao et al., 2018), full-body boxes, one split.

    MMDetection's ``CrowdHumanDataset`` reads the same files; this class does not derive
    from it because each of its three methods is one to replace: ``__init__`` and
    ``load_data_list`` decode every image to learn its size and write an
    ``id_hw_{split}.json`` cache into the data root (non-atomically, behind a bare
    ``except``); ``parse_data_info`` gives ignore boxes ``bbox_label=-1``, makes an unknown
    tag an ignore box without a word, raises a bare ``KeyError`` on a missing key, clips
    nothing and carries no visibility. MMDetection's ``CrowdHumanMetric`` needs neither
    (it reads the ``.odgt`` itself and pairs its lines with the predictions by ``img_id``,
    the record's ``ID``, in order).

    Label rules (counted in the load summary, nothing dropped silently):

    - tag ``person`` -> person (label 0), its full-body box ``fbox``.
    - tag ``mask`` (``ignore_tags``: crowds, reflections, statues) -> ignore region
      (``ignore_flag=1``, ``bbox_label=0`` as every hda-ssd data set), counted as
      ``ignore_mask``.
    - ``extra.ignore`` not 0 on a ``person`` -> ignore region, counted as ``ignore_extra``.
    - any other tag: an error listing every unknown tag with its count and first line.
    - ``visibility`` = area(``vbox`` ∩ ``fbox``) / area(``fbox``): Dollár's visible
      fraction; the intersection keeps it within [0, 1] where a ``vbox`` reaches past its
      ``fbox``. ``vbox`` is required in every box (a record without it is refused).
    - boxes: clipped to the image in training; kept as annotated in test mode
      (``CrowdHumanMetric`` clips its own copy); counted as ``clipped`` either way; a box
      without area, or wholly outside the image, is dropped and counted.
    - image sizes from the JPEG headers (nothing decoded, nothing written); with
      ``extra_ann_file`` (MMDetection's ``id_hw`` cache, ``{ID: [h, w]}``) the sizes come
      from it and must agree with the headers (a stale cache is an error).
    - ``camera`` (the group of the summary and of per-group metrics) is the split.

    Args:
        data_root (str): the folder holding ``Images/`` and the ``.odgt`` files.
        split (str): ``'train'`` or ``'val'`` (the test split of papers). Defaults to
            ``'train'``.
        ann_file (str, optional): the ``.odgt`` file, relative to ``data_root``.
            Defaults to ``annotation_{split}.odgt``.
        img_dir (str): image folder, relative to ``data_root``. Defaults to ``'Images'``.
        extra_ann_file (str, optional): an ``id_hw_{split}.json`` to take the sizes from
            (relative to ``data_root``); never written. Defaults to None.
        clip (bool, optional): clip boxes to the image; None: clip in training, keep in
            test mode. Defaults to None.
        ignore_tags (Sequence[str]): tags made ignore regions. Defaults to ``('mask',)``.
        missing_images (str): an ``ID`` without its image: ``'error'`` or ``'skip'``
            (counted as ``missing``; refused in test mode, where ``CrowdHumanMetric`` needs
            every line of the ``.odgt``). Defaults to ``'error'``.
        **kwargs: passed to :class:`mmdet.datasets.BaseDetDataset` (``pipeline``,
            ``filter_cfg``, ``test_mode``, ...).
    """
    summary_columns = ('images', 'persons', 'ignore_mask', 'ignore_extra', 'ignore_custom',
                       'clipped', 'zero_area', 'outside', 'missing')
    summary_legend = (
        'persons: tag person, trained/scored as person; ignore_mask: tag mask, '
        'ignore_extra: extra.ignore=1, ignore_custom: other ignore_tags, as ignore regions;',
        'clipped: fbox reaching out of the image (cut in training, kept in test mode); '
        'zero_area, outside: dropped; missing: IDs without an image, skipped. Each box '
        'counts once (clipped: also as kept).')
    summary_group_title = 'split'

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 ann_file: Optional[str] = None,
                 img_dir: str = CROWDHUMAN_LAYOUT['img'],
                 extra_ann_file: Optional[str] = None,
                 clip: Optional[bool] = None,
                 ignore_tags: Sequence[str] = ('mask', ),
                 missing_images: str = 'error',
                 **kwargs):
        if missing_images not in ('error', 'skip'):
            raise ValueError(f'missing_images={missing_images!r}: expected "error" or "skip".')
        if missing_images == 'skip' and kwargs.get('test_mode', False):
            raise ValueError(
                "missing_images='skip' in test mode: CrowdHumanMetric pairs every line of "
                'the .odgt with a prediction, in order; restore the missing images instead.')
        if 'person' in ignore_tags:
            raise ValueError('ignore_tags must not hold "person", the one class.')
        self.split = split
        self.img_dir = img_dir
        self.extra_ann_file = extra_ann_file
        self.clip = clip
        self.ignore_tags = tuple(ignore_tags)
        self.missing_images = missing_images
        super().__init__(data_root=data_root,
                         ann_file=ann_file if ann_file is not None else odgt_filename(split),
                         data_prefix=dict(img=img_dir), **kwargs)

    def load_data_list(self) -> List[dict]:
        clip = (not self.test_mode) if self.clip is None else bool(self.clip)
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(
                f'CrowdHuman annotation {self.ann_file} does not exist. Set CROWDHUMAN_ROOT '
                'to the folder holding annotation_train.odgt, annotation_val.odgt and '
                'Images/ (CrowdHuman_train0*.zip and CrowdHuman_val.zip unpacked there).')
        records = load_odgt(self.ann_file)
        self._check_tags(records)
        sizes = self._cached_sizes()
        counts = self.summary.group(self.split)
        name = osp.basename(self.ann_file)
        data_list = []
        for rec in records:
            img_path = crowdhuman_image_path(self.data_prefix['img'], rec.id)
            if not osp.isfile(img_path):
                if self.missing_images == 'error':
                    raise FileNotFoundError(
                        f'{self.ann_file}:{rec.line_no}: image {rec.id!r} is annotated but '
                        f'{img_path} does not exist. Unpack every CrowdHuman_{self.split}*.zip '
                        "into Images/, or set missing_images='skip' to count and skip such "
                        'images (training only).')
                counts['missing'] += 1
                continue
            height, width = self._size(img_path, rec, sizes, name)
            instances = []
            for box in rec.boxes:
                ignore = box.tag != 'person' or bool(box.ignore)
                vis = _visible_fraction(box.fbox, box.vbox) if box.vbox is not None else None
                inst = person_instance(box.fbox, width, height, counts, ignore, vis, clip)
                if inst is None:  # counted as zero_area / outside
                    continue
                if box.tag == 'person':
                    counts['ignore_extra' if box.ignore else 'persons'] += 1
                else:
                    counts['ignore_mask' if box.tag == 'mask' else 'ignore_custom'] += 1
                instances.append(inst)
            counts['images'] += 1
            data_list.append(dict(img_path=img_path, img_id=rec.id, camera=self.split,
                                  height=height, width=width, instances=instances))
        return data_list

    def _size(self, img_path: str, rec, sizes: Optional[Dict[str, Tuple[int, int]]],
              name: str) -> Tuple[int, int]:
        shape = read_image_shape(img_path)
        if sizes is None:
            return shape
        if rec.id not in sizes:
            raise ValueError(f'{self.extra_ann_file}: no size for {rec.id!r} ({name}:'
                             f'{rec.line_no}): the cache is from another split or release; '
                             'remove extra_ann_file to read the sizes from the images.')
        if tuple(sizes[rec.id]) != tuple(shape):
            h, w = sizes[rec.id]
            raise ValueError(
                f'{self.extra_ann_file}: {rec.id!r} ({name}:{rec.line_no}) is {w}x{h} there '
                f'but {img_path} is {shape[1]}x{shape[0]} (JPEG header): the cache is stale; '
                'delete it, or remove extra_ann_file to read the sizes from the images.')
        return shape

    def _cached_sizes(self) -> Optional[Dict[str, Tuple[int, int]]]:
        if self.extra_ann_file is None:
            return None
        path = self.extra_ann_file
        if not osp.isabs(path):
            path = osp.join(self.data_root, path)
            self.extra_ann_file = path
        try:
            with open(path, encoding='utf-8') as f:
                doc = json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f'{path}:{e.lineno}:{e.colno}: invalid JSON ({e.msg}): the '
                             'size cache is cut short; delete it, or remove extra_ann_file.') \
                from None
        ok = isinstance(doc, dict) and all(
            isinstance(v, list) and len(v) == 2 and all(isinstance(x, int) for x in v)
            for v in doc.values())
        if not ok:
            raise ValueError(f'{path}: expected {{ID: [height, width]}} (MMDetection\'s '
                             'id_hw cache); delete it, or remove extra_ann_file.')
        return {k: (v[0], v[1]) for k, v in doc.items()}

    def _check_tags(self, records) -> None:
        """One error listing every unknown tag of the file (count, first line)."""
        known = {'person'} | set(self.ignore_tags)
        unknown = UnknownLabels('tags')
        for rec in records:
            for box in rec.boxes:
                if box.tag not in known:
                    unknown.add(box.tag, f'{self.ann_file}:{rec.line_no} gtboxes[{box.index}]')
        if unknown:
            raise unknown.error('CrowdHumanPersonDataset', f'"person" or one of '
                                f'{list(self.ignore_tags)} (ignore regions)', 'ignore_tags',
                                self.ignore_tags)


def _visible_fraction(fbox, vbox) -> float:
    """area(``vbox`` ∩ ``fbox``) / area(``fbox``); 0 for an ``fbox`` without area."""
    area = fbox[2] * fbox[3]
    if area <= 0:
        return 0.0
    iw = min(fbox[0] + fbox[2], vbox[0] + vbox[2]) - max(fbox[0], vbox[0])
    ih = min(fbox[1] + fbox[3], vbox[1] + vbox[3]) - max(fbox[1], vbox[1])
    return max(iw, 0.) * max(ih, 0.) / area
