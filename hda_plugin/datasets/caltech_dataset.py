"""The Caltech Pedestrian data set, read as distributed: frames straight from the
``setXX/VYYY.seq`` videos, boxes from ``annotations/setXX/VYYY.vbb`` (binary or text)."""
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import numpy as np
from mmdet.registry import DATASETS
from mmengine.logging import print_log

from ..fileio.caltech_layout import (
    CALTECH_IMAGE_SIZE,
    annotation_candidates,
    annotation_path,
    caltech_img_id,
    list_videos,
    seq_path,
    set_name,
    split_frames,
    split_preset,
    video_group,
)
from ..fileio.seq import read_seq_header
from ..fileio.vbb_mat import load_any_vbb
from .person import PersonDataset, UnknownLabels, person_instance

__all__ = ['CaltechDataset']


@DATASETS.register_module()
class CaltechDataset(PersonDataset):
    """Caltech Pedestrian (Dollár et al.) from a release root holding ``setXX/VYYY.seq`` and
    ``annotations/setXX/VYYY.vbb`` (:mod:`hda_plugin.fileio.caltech_layout`).

    No frame is extracted nor decoded here: each data info names the ``.seq``
    (``img_path``) and the 0-based frame index in it (``seq_frame``); ``LoadImageFast``
    reads that frame's JPEG from the video. Width and height come from the ``.seq`` header
    (:func:`~hda_plugin.fileio.seq.read_seq_header`, 1024 bytes a video), so building the
    test split costs reading its ``.vbb`` files.

    Label rules (each box counted in the load summary, nothing dropped silently):

    - ``person`` -> person (label 0), with ``visibility`` = Dollár's visible fraction (area of
      ``posv`` over area of ``pos``; ``inf`` when ``posv`` is not set, as dbEval's
      ``filterGtFun``); ``occl`` 1 counted as ``occluded``.
    - ``ignore_labels`` (``people``, ``person?``, ``person-fa``, ``ignore``) -> ignore regions
      (``ignore_flag=1``), counted as ``ignore_label``.
    - ``drop_labels`` -> left out, counted as ``dropped``: Caltech's ``dbEval.m`` loads
      ``{'person','person?','people','ignore'}`` only, so its test set has no
      ``person-fa`` at all; the test config sets ``drop_labels=('person-fa',)``.
    - with ``visibility_range=(lo, hi)``, persons whose visible fraction (unset ``posv``
      counting as 1.0, fully visible) lies outside become ignore regions (``ignore_vis``).
    - boxes reaching out of the image are clipped to it in training and kept as annotated
      in test mode (dbEval scores them unclipped; its ``bnds`` make them ignore regions),
      counted as ``clipped`` either way; one with no area inside is dropped (``zero_area``,
      ``outside``).
    - any other label: an error listing every unknown label with its file and first frame.

    Bad input raises an error naming the file(s): a ``.vbb`` whose ``nFrame`` differs from
    its ``.seq``'s frame count, a video without annotation (or, with
    ``missing_annotations='skip'``, counted and reported), a ``.seq`` whose frame size is
    not ``image_size``, and the readers' own errors.

    Args:
        data_root (str): the release root (``CALTECH_ROOT``).
        split (str, optional): ``'train'`` (set00-05, every 3rd frame from index 2:
            Caltech10x) or ``'test'`` (set06-10, every 30th from index 29: 4,024 images);
            None needs ``sets``. Defaults to None.
        sets (Sequence[int | str], optional): sets to read, overriding the split's.
        frame_step (int, optional): keep every ``frame_step``-th frame, overriding the
            split's (then ``first_frame`` defaults to ``frame_step - 1``).
        first_frame (int, optional): first 0-based frame kept.
        ignore_labels (Sequence[str]): labels made ignore regions.
        drop_labels (Sequence[str]): labels left out (counted). Defaults to ().
        person_labels (Sequence[str]): labels that are persons. Defaults to ('person',).
        visibility_range (tuple[float, float], optional): visible fractions kept as persons.
        missing_annotations (str): ``'error'`` or ``'skip'`` a video without annotation.
        image_size (tuple[int, int], optional): required ``(width, height)`` of every
            ``.seq``; None accepts any. Defaults to 640x480.
        **kwargs: passed to ``BaseDetDataset`` (``pipeline``, ``filter_cfg``, ``test_mode``).
    """
    summary_columns = ('images', 'persons', 'occluded', 'ignore_label', 'ignore_vis',
                       'dropped', 'clipped', 'zero_area', 'outside', 'no_annotation')
    summary_legend = (
        'persons: boxes trained/scored as person (occluded: of them, occl=1); ignore_label '
        '(people, person?, ...) and ignore_vis (visibility_range): ignore regions; dropped: '
        'drop_labels, left out; clipped: cut to the image; zero_area, outside: dropped (no '
        'area inside the image); no_annotation: frames of videos without annotation, skipped.',)
    summary_group_title = 'video'

    def __init__(self,
                 data_root: str,
                 split: Optional[str] = None,
                 sets: Optional[Sequence] = None,
                 frame_step: Optional[int] = None,
                 first_frame: Optional[int] = None,
                 ignore_labels: Sequence[str] = ('people', 'person?', 'person-fa', 'ignore'),
                 drop_labels: Sequence[str] = (),
                 person_labels: Sequence[str] = ('person', ),
                 visibility_range: Optional[Sequence[float]] = None,
                 missing_annotations: str = 'error',
                 image_size: Optional[Tuple[int, int]] = CALTECH_IMAGE_SIZE,
                 **kwargs):
        self.sets, self.frame_step, self.first_frame = split_preset(
            split, sets, frame_step, first_frame)
        split_frames(0, self.frame_step, self.first_frame)  # checks step and first
        self.split = split
        self.ignore_labels = tuple(ignore_labels)
        self.drop_labels = tuple(drop_labels)
        self.person_labels = tuple(person_labels)
        both = set(self.ignore_labels) & set(self.drop_labels) | \
            set(self.person_labels) & (set(self.ignore_labels) | set(self.drop_labels))
        if both:
            raise ValueError(f'CaltechDataset: labels {sorted(both)} are in more than one of '
                             'person_labels, ignore_labels, drop_labels: give each once.')
        if visibility_range is not None and len(visibility_range) != 2:
            raise ValueError(f'visibility_range={visibility_range!r}: expected (min, max) '
                             'visible fraction, e.g. (0.65, 1.0).')
        self.visibility_range = tuple(visibility_range) if visibility_range else None
        if missing_annotations not in ('error', 'skip'):
            raise ValueError(f'missing_annotations={missing_annotations!r}: expected "error" '
                             'or "skip".')
        self.missing_annotations = missing_annotations
        self.image_size = tuple(image_size) if image_size else None
        self.skipped_videos: List[str] = []
        super().__init__(data_root=data_root, ann_file='', **kwargs)

    # ----------------------------------------------------------------------------------
    def _videos(self) -> List[Tuple[int, int]]:
        out = []
        for s in self.sets:
            vids = list_videos(self.data_root, s)
            if not vids:
                raise FileNotFoundError(
                    f'CaltechDataset: no video {osp.join(self.data_root, set_name(s), "V*.seq")}'
                    f': set {set_name(s)} is absent. Point CALTECH_ROOT (data_root) at the '
                    'folder holding set00/ .. set10/ and annotations/ (untar setXX.tar there).')
            out += [(s, v) for v in vids]
        return out

    def _kind(self, label: str) -> Optional[str]:
        if label in self.person_labels:
            return 'person'
        if label in self.ignore_labels:
            return 'ignore'
        if label in self.drop_labels:
            return 'drop'
        return None

    def load_data_list(self) -> List[dict]:
        data_list = []
        unknown = UnknownLabels(unit='tracks')
        for s, v in self._videos():
            group = video_group(s, v)
            counts = self.summary.group(group)
            seq = seq_path(self.data_root, s, v)
            head = read_seq_header(seq)
            frames = split_frames(head.num_frames, self.frame_step, self.first_frame)
            ann_path = annotation_path(self.data_root, s, v)
            if ann_path is None:
                if self.missing_annotations == 'error':
                    looked = ' or '.join(annotation_candidates(self.data_root, s, v))
                    raise FileNotFoundError(
                        f'{seq}: no annotation ({looked} does not exist). Unzip '
                        f'annotations.zip into {self.data_root}, or set '
                        "missing_annotations='skip' to count and skip such videos.")
                counts['no_annotation'] += len(frames)
                self.skipped_videos.append(seq)
                continue
            if self.image_size and (head.width, head.height) != self.image_size:
                raise ValueError(
                    f'{seq}: frames are {head.width}x{head.height} (.seq header), but Caltech '
                    f'frames are {self.image_size[0]}x{self.image_size[1]}, the size '
                    f'{ann_path} was annotated on. Re-copy the video, or set image_size=None '
                    'for another release of this layout.')
            ann = load_any_vbb(ann_path)
            if ann.n_frames != head.num_frames:
                raise ValueError(
                    f'{ann_path}: nFrame = {ann.n_frames}, but {seq} holds {head.num_frames} '
                    'frames (its header): the annotation belongs to another video or one of '
                    'the two files is damaged. Re-copy both from the release.')
            kinds = {}
            for obj in ann.objects:
                kind = self._kind(obj.label)
                if kind is None:
                    unknown.add(obj.label, f'{ann_path} frame {obj.start - 1} (0-based)')
                kinds[id(obj)] = kind
            if unknown:
                continue  # collect every unknown label before raising
            per_frame = ann.per_frame(frames)  # the kept frames only
            for f in frames:
                instances = []
                for obj, row in per_frame[f]:
                    inst = self._instance(obj, row, kinds[id(obj)], head, counts)
                    if inst is not None:
                        instances.append(inst)
                counts['images'] += 1
                data_list.append(dict(
                    img_path=seq, seq_frame=f, img_id=caltech_img_id(s, v, f), camera=group,
                    height=head.height, width=head.width, instances=instances))
        if unknown:
            raise unknown.error(
                'CaltechDataset', f'persons {list(self.person_labels)}, ignore regions '
                f'{list(self.ignore_labels)} or dropped {list(self.drop_labels)}',
                'ignore_labels', self.ignore_labels)
        if self.skipped_videos:
            print_log(f'CaltechDataset: {len(self.skipped_videos)} videos without annotation '
                      f'skipped (missing_annotations="skip"): {self.skipped_videos}.',
                      logger='current', level=30)
        return data_list

    def _instance(self, obj, row, kind, head, counts) -> Optional[dict]:
        if kind == 'drop':
            counts['dropped'] += 1
            return None
        vis = self._dollar_visibility(obj.pos[row], obj.posv[row])
        if kind == 'ignore':
            inst = person_instance(obj.pos[row], head.width, head.height, counts, True,
                                   clip=not self.test_mode)
            counts['ignore_label'] += inst is not None
            return inst
        ignore = False
        if self.visibility_range is not None:
            frac = 1.0 if vis == float('inf') else vis
            ignore = not self.visibility_range[0] <= frac <= self.visibility_range[1]
        inst = person_instance(obj.pos[row], head.width, head.height, counts, ignore, vis,
                               clip=not self.test_mode)
        if inst is not None:
            counts['ignore_vis' if ignore else 'persons'] += 1
            counts['occluded'] += int(not ignore and bool(obj.occl[row]))
        return inst

    @staticmethod
    def _dollar_visibility(pos, posv) -> float:
        """Area of ``posv`` over area of ``pos``; ``inf`` when ``posv`` is all zeros (not
        set), dbEval's ``filterGtFun``."""
        if not np.any(posv):
            return float('inf')
        w, h = float(pos[2]), float(pos[3])
        if w <= 0 or h <= 0:
            return float('inf')  # a box without area is dropped anyway
        return float(posv[2]) * float(posv[3]) / (w * h)
