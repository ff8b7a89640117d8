"""SSD-Tensorflow TFRecord shards as an MMDetection dataset, without TensorFlow."""
import os
import os.path as osp
from collections import Counter, OrderedDict
from typing import Dict, List, Optional, Union
from urllib.parse import parse_qs, urlencode

import numpy as np
from mmdet.datasets import BaseDetDataset
from mmdet.registry import DATASETS
from mmengine.fileio import BaseStorageBackend, register_backend
from mmengine.logging import print_log

from ..fileio.hda_layout import camera_of
from ..fileio.tf_example import (
    example_image,
    image_format_from_bytes,
    image_size_from_bytes,
    parse_ssd_example,
)
from ..fileio.tfrecord import TFRecordError, find_shards, load_shard_index, read_record
from ..utils.table import format_table
from .filtering import apply_filter_cfg

__all__ = ['SSDTFRecordDataset', 'TFRecordImageBackend', 'tfrecord_uri']

_SCHEME = 'tfrecord'


def tfrecord_uri(path: str, record: int, offset: int, length: int, verify_crc: bool) -> str:
    """``tfrecord:///abs/shard.tfrecord?record=..&offset=..&length=..&crc=..``: the image of
    one record, readable by ``mmengine.fileio.get`` and so by ``LoadImageFromFile``."""
    q = urlencode(dict(record=record, offset=offset, length=length, crc=int(verify_crc)))
    return f'{_SCHEME}://{osp.abspath(path)}?{q}'


@register_backend(_SCHEME, prefixes=_SCHEME)
class TFRecordImageBackend(BaseStorageBackend):
    """MMEngine file backend returning ``image/encoded`` of a record named by
    :func:`tfrecord_uri`, so stock pipelines (``LoadImageFromFile``) read shards unchanged.
    Decoding is by content (cv2), whatever ``image/format`` claims."""

    def __init__(self):
        self._fds: Dict[tuple, int] = {}

    def _fd(self, path):
        key = (os.getpid(), path)  # one descriptor per process (dataloader workers fork)
        if key not in self._fds:
            self._fds[key] = os.open(path, os.O_RDONLY)
        return self._fds[key]

    def get(self, filepath) -> bytes:
        rest = str(filepath)[len(_SCHEME) + 3:]
        path, _, query = rest.partition('?')
        q = {k: int(v[0]) for k, v in parse_qs(query).items()}
        data = read_record(self._fd(path), path, q['offset'], q['length'], bool(q['crc']),
                           q['record'])
        image = example_image(data)
        if not image:
            raise TFRecordError(f'{path}: record {q["record"]}: image/encoded is empty.')
        return image

    def get_text(self, filepath, encoding='utf-8'):
        raise NotImplementedError(f'{filepath}: TFRecord images are binary.')


@DATASETS.register_module()
class SSDTFRecordDataset(BaseDetDataset):
    """Shards written by SSD-Tensorflow's ``pascalvoc_to_tfrecords.py`` (VOC schema).

    Boxes (normalised ``ymin, xmin, ymax, xmax``) become pixel ``x1, y1, x2, y2`` with the
    size of the encoded image itself (read from its header); records whose ``image/shape``
    disagrees are counted and reported. Out-of-range coordinates are clipped and counted,
    boxes left without area are dropped and counted, ``difficult=1`` boxes become ignored
    instances.

    Label mapping (logged as a table at load): by default each box maps through its
    ``label_text`` to a class of the dataset (``b'person'`` -> ``person``, label 0). An
    explicit ``label_map`` replaces that: keys are numeric ids (``15``) or texts
    (``'person'``), values class names (or None to drop the box deliberately). A box that
    maps to nothing raises an error listing every id/text found and the config line that
    fixes it, unless ``unknown_labels='ignore'`` (then the dropped boxes are counted).

    Args:
        data_root (str): folder of the shards.
        file_pattern (str): shard glob, e.g. ``'hda_train_*.tfrecord'``.
        label_map (dict, optional): ``{id or text: class name or None}``. Defaults to None.
        unknown_labels (str): ``'error'`` or ``'ignore'``. Defaults to ``'error'``.
        verify_crc (bool): check every record's data CRC (at load and at each read).
            Defaults to True.
        index_cache_dir (str, optional): where offset indexes are cached when not beside
            the shards. Defaults to None.
        **kwargs: passed to :class:`mmdet.datasets.BaseDetDataset`.
    """

    METAINFO = dict(classes=('person', ), palette=[(220, 20, 60)])

    def __init__(self,
                 data_root: str,
                 file_pattern: str,
                 label_map: Optional[Dict[Union[int, str], Optional[str]]] = None,
                 unknown_labels: str = 'error',
                 verify_crc: bool = True,
                 index_cache_dir: Optional[str] = None,
                 **kwargs):
        if unknown_labels not in ('error', 'ignore'):
            raise ValueError(f'unknown_labels="{unknown_labels}": expected "error" or "ignore".')
        self.file_pattern = file_pattern
        self.label_map = dict(label_map) if label_map is not None else None
        self.unknown_labels = unknown_labels
        self.verify_crc = verify_crc
        self.index_cache_dir = index_cache_dir
        self.load_summary: Dict = OrderedDict()
        super().__init__(data_root=data_root, ann_file='', **kwargs)

    # ----------------------------------------------------------------------------------
    def _target(self, label: int, text: str, classes) -> Optional[str]:
        """Class name for a box, ``None`` when unmapped, ``''`` when deliberately dropped."""
        if self.label_map is None:
            return text if text in classes else None
        for key in (label, str(label), text):
            if key in self.label_map:
                return self.label_map[key] if self.label_map[key] is not None else ''
        return None

    def load_data_list(self) -> List[dict]:
        classes = list(self.metainfo['classes'])
        if self.label_map:
            bad = {k: v for k, v in self.label_map.items() if v is not None and v not in classes}
            if bad:
                raise ValueError(f'label_map {bad}: targets must be classes of the dataset '
                                 f'{classes} (or None to drop).')
        shards = find_shards(self.data_root, self.file_pattern)
        table: Counter = Counter()  # (id, text, target) -> boxes
        st = Counter()
        shape_mismatch, formats = [], Counter()
        data_list = []
        for path in shards:
            index = load_shard_index(path, self.index_cache_dir)
            fd = os.open(path, os.O_RDONLY)
            try:
                for r in range(len(index)):
                    off, length = int(index.offsets[r]), int(index.lengths[r])
                    data = read_record(fd, path, off, length, self.verify_crc, r)
                    try:
                        ex = parse_ssd_example(data)
                        real_fmt = image_format_from_bytes(ex['image'])
                        width, height = image_size_from_bytes(ex['image'])
                    except Exception as e:  # protobuf or image header errors
                        raise TFRecordError(
                            f'{path}: record {r} at byte offset {off - 12}: not an '
                            f'SSD-Tensorflow example with a readable image ({e}).') from e
                    formats[(ex['format'] or '?', real_fmt)] += 1
                    dh, dw = ex['shape'][:2]
                    if (dh, dw) != (height, width):
                        st['shape_mismatch'] += 1
                        if len(shape_mismatch) < 5:
                            shape_mismatch.append(f'{osp.basename(path)} record {r}: '
                                                  f'image/shape {dh}x{dw}, image {height}x{width}')
                    bad = ~np.isfinite(ex['boxes']).all(axis=1)
                    if bad.any():
                        raise TFRecordError(
                            f'{path}: record {r} at byte offset {off - 12}: box '
                            f'{int(np.argmax(bad))} (ymin, xmin, ymax, xmax) is '
                            f'{ex["boxes"][bad][0].tolist()}: NaN or Inf is no box. Fix the '
                            'writer of this shard and re-write it.')
                    instances = self._instances(ex, width, height, classes, table, st)
                    st['records'] += 1
                    data_list.append(dict(
                        img_path=tfrecord_uri(path, r, off, length, self.verify_crc),
                        img_id=f'{osp.basename(path)}#{r}', height=height, width=width,
                        instances=instances, shard=osp.basename(path), record=r,
                        camera=camera_of(osp.basename(path))))
            finally:
                os.close(fd)
        self._report(shards, table, st, shape_mismatch, formats, classes)
        return data_list

    def _instances(self, ex, width, height, classes, table, st) -> List[dict]:
        out = []
        n = len(ex['boxes'])
        labels = ex['labels'] + [-1] * (n - len(ex['labels']))
        texts = ex['texts'] + [''] * (n - len(ex['texts']))
        for (ymin, xmin, ymax, xmax), lab, txt, diff in zip(ex['boxes'], labels, texts,
                                                             ex['difficult']):
            target = self._target(lab, txt, classes)
            table[(lab, txt, target)] += 1
            st['boxes'] += 1
            if not target:  # unmapped (None) or dropped on purpose ('')
                continue
            box = np.array([xmin * width, ymin * height, xmax * width, ymax * height])
            clipped = np.clip(box, 0, [width, height, width, height])
            if not np.array_equal(box, clipped):
                st['clipped'] += 1
            if clipped[2] - clipped[0] <= 0 or clipped[3] - clipped[1] <= 0:
                st['degenerate'] += 1
                continue
            st['difficult'] += int(bool(diff))
            out.append(dict(bbox=clipped.tolist(), bbox_label=classes.index(target),
                            ignore_flag=int(bool(diff))))
        return out

    def _report(self, shards, table, st, shape_mismatch, formats, classes):
        lines = [f'SSDTFRecordDataset: {st["records"]} records in {len(shards)} shard(s) '
                 f'matching {self.file_pattern} under {self.data_root}',
                 'label mapping (label_map={}):'.format(
                     self.label_map if self.label_map is not None else
                     'None: by label_text to the classes')]
        unknown, cells = [], []
        for (lab, txt, target), n in sorted(table.items(), key=lambda kv: (kv[0][0], kv[0][1])):
            shown = target if target else ('(dropped by label_map)' if target == '' else
                                            '(UNMAPPED)')
            cells.append((lab, repr(txt), shown, n))
            if target is None:
                unknown.append((lab, txt, n))
        lines += format_table(('id', 'label_text', 'target class', 'boxes'), cells,
                              align='rllr')
        lines.append(f'boxes: {st["boxes"]}, clipped to the image: {st["clipped"]}, dropped as '
                     f'degenerate: {st["degenerate"]}, difficult (ignored): {st["difficult"]}')
        lines.append('image format declared -> real: ' + ', '.join(
            f'{d}->{r}: {n}' for (d, r), n in sorted(formats.items())))
        if st['shape_mismatch']:
            lines.append(f'records whose image/shape disagrees with the image: '
                         f'{st["shape_mismatch"]} (boxes use the real size), e.g. ' +
                         '; '.join(shape_mismatch))
        self.load_summary = dict(records=st['records'], shards=len(shards),
                                 labels={f'{lab}:{txt}': dict(target=t, boxes=n)
                                         for (lab, txt, t), n in table.items()},
                                 **{k: st[k] for k in ('boxes', 'clipped', 'degenerate',
                                                       'difficult', 'shape_mismatch')},
                                 unmapped_boxes=sum(n for _, _, n in unknown))
        self.report = '\n'.join(lines)
        if unknown and self.unknown_labels == 'error':
            found = ', '.join(f'id {lab} text {txt!r}: {n} boxes' for lab, txt, n in unknown)
            fix = {lab: txt for lab, txt, _ in unknown if txt in classes}
            fix_line = (f'label_map={fix!r}' if fix else
                        f"label_map={{{unknown[0][0]}: '{classes[0]}'}}  # if that id is a "
                        f'{classes[0]}')
            print_log('\n'.join(lines), logger='current')
            raise ValueError(
                f'SSDTFRecordDataset ({self.file_pattern}): {sum(n for *_, n in unknown)} boxes '
                f'map to no class of {classes}: {found}. Every label found: '
                + ', '.join(f'{lab}/{txt!r}={n}' for (lab, txt, _), n in sorted(table.items()))
                + f'. Fix: add to the dataset config `{fix_line}`, or set '
                "unknown_labels='ignore' to drop (and count) them.")
        if unknown:
            lines.append(f'unknown_labels=\'ignore\': {sum(n for *_, n in unknown)} boxes with '
                         'no class were dropped (counted above as UNMAPPED).')
        self.report = '\n'.join(lines)
        print_log(self.report, logger='current')

    def filter_data(self) -> List[dict]:
        """Applies ``filter_cfg`` (``filter_empty_gt``, ``min_size``) and counts the removals."""
        if self.test_mode or not self.filter_cfg:
            return self.data_list
        kept, removed = apply_filter_cfg(self.data_list, self.filter_cfg, self.test_mode)
        self.load_summary['filtered'] = removed
        print_log(f'SSDTFRecordDataset: {len(kept)} records kept, {removed} removed by '
                  f'filter_cfg={self.filter_cfg}', logger='current')
        if not kept:
            raise ValueError(
                f'SSDTFRecordDataset ({self.file_pattern}): no record left after filter_cfg='
                f'{self.filter_cfg}: no box maps to a class (see the label mapping table '
                'above), so no ground truth reaches the loss. Fix label_map so that the '
                "records' label ids map to the classes (e.g. label_map={15: 'person'}).")
        return kept
