"""HDA person data set, read from an HDA release root (``HDA_Dataset_V1.3/``)."""
import os
import os.path as osp
import re
from collections import OrderedDict
from typing import List, Optional, Sequence, Union

import numpy as np
from mmdet.datasets import BaseDetDataset
from mmdet.registry import DATASETS
from mmengine.logging import print_log

from ..fileio.hda_layout import (
    HDA_LAYOUT,
    annotation_path,
    camera_id,
    camera_name,
    frame_filename,
    hda_img_id,
)
from ..fileio.vbb import load_vbb
from ..utils.table import format_table
from .filtering import apply_filter_cfg
from .person import PERSON_METAINFO

__all__ = ['HDADataset']

_PERSON_RE = re.compile(r'^person\d*$')


@DATASETS.register_module()
class HDADataset(BaseDetDataset):
    """The HDA / HDA+ surveillance person data set (ISR Lisbon).

    Reads the vbb 1.4 annotations ``hda_annotations/camNN.txt`` and the frames that
    ``tools/dataset_converters/hda_seq_to_frames.py`` extracts from the ``.seq`` videos into
    ``hda_frames/camNN/I<frame>.jpg`` (``frame`` 1-based as in vbb, five digits).

    Label rules (counted in the load summary, nothing dropped silently):

    - ``person<ID>`` (and ``person``) -> class ``person`` (label 0).
    - ``crowd``, ``personUnk`` (``ignore_labels``) -> ignore regions (``ignore_flag=1``).
    - objects with ``hide=1`` -> ignore regions (the labelling tool hid them: they are
      neither trusted positives nor background).
    - occluded boxes (``occl=1``) are kept, or ignored with ``occluded='ignore'``.
    - with ``visibility_range=(lo, hi)``, persons whose visible fraction (``posv`` inside
      ``pos``, 1.0 when ``posv`` is not set) lies outside it become ignore regions, the
      Caltech "reasonable" rule (``(0.65, 1.0)``); off by default, as in the HDA code.
    - each instance carries ``visibility``, Dollár's visible fraction (area of ``posv`` over
      area of ``pos``, ``inf`` when ``posv`` is not set), for ``MissRateMetric``'s settings.
    - boxes are clipped to the image; a box with no area left (degenerate, or wholly
      outside the frame) is dropped and counted as ``zero_area`` / ``outside``.
    - any other label raises an error naming the file and line.

    Args:
        data_root (str): release root holding ``hda_annotations/`` and ``hda_frames/``.
        cameras (Sequence[int | str]): cameras to read, e.g. ``[17, 18, 50]``.
        frame_step (int): keep every ``frame_step``-th frame (HDA runs at 5 fps, so
            neighbours are near-duplicates). Defaults to 1.
        prefer_rev1 (bool): read ``camNN_rev1.txt`` where it exists. Defaults to True.
        occluded (str): ``'keep'`` or ``'ignore'`` occluded boxes. Defaults to ``'keep'``.
        ignore_labels (Sequence[str]): labels made ignore regions.
            Defaults to ``('crowd', 'personUnk')``.
        missing_frames (str): ``'error'`` when an annotated frame has no image file, or
            ``'skip'`` (counted in the summary). Defaults to ``'error'``.
        visibility_range (tuple[float, float], optional): visible fractions kept as
            persons; the others become ignore regions (``vis_ignored``). Defaults to None.
        ann_dir (str): annotation folder. Defaults to ``'hda_annotations'``.
        img_dir (str): extracted frames folder. Defaults to ``'hda_frames'``.
        **kwargs: passed to :class:`mmdet.datasets.BaseDetDataset` (``pipeline``,
            ``filter_cfg``, ``test_mode``, ...).
    """

    METAINFO = PERSON_METAINFO

    def __init__(self,
                 data_root: str,
                 cameras: Sequence[Union[int, str]],
                 frame_step: int = 1,
                 prefer_rev1: bool = True,
                 occluded: str = 'keep',
                 ignore_labels: Sequence[str] = ('crowd', 'personUnk'),
                 missing_frames: str = 'error',
                 visibility_range: Optional[Sequence[float]] = None,
                 ann_dir: str = HDA_LAYOUT['ann'],
                 img_dir: str = HDA_LAYOUT['frames'],
                 **kwargs):
        if occluded not in ('keep', 'ignore'):
            raise ValueError(f'occluded="{occluded}": expected "keep" or "ignore".')
        if missing_frames not in ('error', 'skip'):
            raise ValueError(f'missing_frames="{missing_frames}": expected "error" or "skip".')
        if int(frame_step) < 1:
            raise ValueError(f'frame_step must be >= 1, got {frame_step}.')
        if not cameras:
            raise ValueError('HDADataset needs at least one camera, e.g. cameras=[17, 18].')
        self.cameras = [camera_name(c) for c in cameras]
        self.frame_step = int(frame_step)
        self.prefer_rev1 = prefer_rev1
        self.occluded = occluded
        self.ignore_labels = tuple(ignore_labels)
        if visibility_range is not None and len(visibility_range) != 2:
            raise ValueError(f'visibility_range={visibility_range!r}: expected (min, max) '
                             'visible fraction, e.g. (0.65, 1.0) for Caltech\'s "reasonable".')
        self.visibility_range = tuple(visibility_range) if visibility_range else None
        self.missing_frames = missing_frames
        self.ann_dir, self.img_dir = ann_dir, img_dir
        self.load_summary: 'OrderedDict[str, dict]' = OrderedDict()
        super().__init__(data_root=data_root, ann_file='', **kwargs)
        # HDABenchmarkMetric reads the release's frame counts and
        # ground-truth files from here
        self._metainfo['data_root'] = self.data_root

    # ----------------------------------------------------------------------------------
    def _frame_ext(self, cam: str) -> str:
        cam_dir = osp.join(self.data_root, self.img_dir, cam)
        for ext in ('jpg', 'png'):
            if osp.isfile(osp.join(cam_dir, frame_filename(1, ext))):
                return ext
        if osp.isdir(cam_dir):
            for name in sorted(os.listdir(cam_dir)):
                if name.startswith('I') and name.rsplit('.', 1)[-1] in ('jpg', 'png'):
                    return name.rsplit('.', 1)[-1]
        raise FileNotFoundError(
            f'No frames for {cam} in {cam_dir}. Extract them from the .seq video with: '
            f'python tools/dataset_converters/hda_seq_to_frames.py {self.data_root} '
            f'--cameras {camera_id(cam)}')

    def _classify(self, obj, path):
        if obj.label in self.ignore_labels:
            return 'ignore_label'
        if _PERSON_RE.match(obj.label):
            return 'person'
        raise ValueError(
            f'{path}:{obj.line_no}: unknown label {obj.label!r}: expected person<ID>, or one of '
            f'{list(self.ignore_labels)} (ignore regions). To treat it as an ignore region, '
            f'add it to the dataset\'s ignore_labels, e.g. '
            f'ignore_labels={list(self.ignore_labels) + [obj.label]!r}.')

    def load_data_list(self) -> List[dict]:
        import cv2
        data_list = []
        self.load_summary.clear()
        for cam in self.cameras:
            path = annotation_path(self.data_root, cam, self.prefer_rev1, self.ann_dir)
            ann = load_vbb(path)
            ext = self._frame_ext(cam)
            cam_dir = osp.join(self.data_root, self.img_dir, cam)
            first = osp.join(cam_dir, frame_filename(1, ext))
            img = cv2.imread(first if osp.isfile(first) else self._any_frame(cam_dir, ext))
            if img is None:
                raise ValueError(f'Cannot decode {first}: re-extract the frames of {cam}.')
            height, width = img.shape[:2]
            st = OrderedDict(annotation=osp.basename(path), frames=ann.n_frames, used=0,
                             missing=0, persons=0, ignore_crowd_unk=0, ignore_hidden=0,
                             occluded=0, ignore_occluded=0, ignore_visibility=0, clipped=0,
                             zero_area=0, outside=0)
            kinds = {id(o): self._classify(o, path) for o in ann.objects}
            per_frame = ann.per_frame()
            for f in range(1, ann.n_frames + 1, self.frame_step):
                img_path = osp.join(cam_dir, frame_filename(f, ext))
                try:  # one stat per frame: exists, and not empty
                    size = os.stat(img_path).st_size
                except FileNotFoundError:
                    size = -1
                if size == 0:
                    raise ValueError(
                        f'{img_path}: frame {f} of {cam} is an empty (0-byte) file, left by an '
                        'interrupted copy or extraction. Re-run '
                        'tools/dataset_converters/hda_seq_to_frames.py for this camera.')
                if size < 0:
                    if self.missing_frames == 'error':
                        raise FileNotFoundError(
                            f'{path}: frame {f} is annotated but {img_path} does not exist. '
                            'Re-run tools/dataset_converters/hda_seq_to_frames.py, or set '
                            "missing_frames='skip' to count and skip such frames.")
                    st['missing'] += 1
                    continue
                instances = []
                for obj, row in per_frame[f - 1]:
                    inst = self._instance(obj, row, kinds[id(obj)], width, height, st)
                    if inst is not None:
                        instances.append(inst)
                st['used'] += 1
                data_list.append(dict(img_path=img_path, img_id=hda_img_id(cam, f), camera=cam,
                                      frame=f, height=height, width=width,
                                      instances=instances))
            self.load_summary[cam] = st
        return data_list

    @staticmethod
    def _any_frame(cam_dir, ext):
        names = sorted(n for n in os.listdir(cam_dir) if n.endswith('.' + ext))
        return osp.join(cam_dir, names[0])

    def _instance(self, obj, row, kind, width, height, st) -> Optional[dict]:
        x, t, w, h = (float(v) for v in obj.pos[row])
        x1, y1, x2, y2 = x, t, x + w, t + h
        if w <= 0 or h <= 0:
            st['zero_area'] += 1
            return None
        cx1, cy1 = min(max(x1, 0.), width), min(max(y1, 0.), height)
        cx2, cy2 = min(max(x2, 0.), width), min(max(y2, 0.), height)
        if cx2 - cx1 <= 0 or cy2 - cy1 <= 0:
            st['outside'] += 1
            return None
        if (cx1, cy1, cx2, cy2) != (x1, y1, x2, y2):
            st['clipped'] += 1
        ignore = 0
        if kind == 'ignore_label':
            st['ignore_crowd_unk'] += 1
            ignore = 1
        elif obj.hide:
            st['ignore_hidden'] += 1
            ignore = 1
        else:
            occluded = bool(obj.occl[row])
            st['occluded'] += int(occluded)
            if occluded and self.occluded == 'ignore':
                st['ignore_occluded'] += 1
                ignore = 1
            elif self.visibility_range and not (
                    self.visibility_range[0] <= self._visible_fraction(obj, row)
                    <= self.visibility_range[1]):
                st['ignore_visibility'] += 1
                ignore = 1
            else:
                st['persons'] += 1
        return dict(bbox=[cx1, cy1, cx2, cy2], bbox_label=0, ignore_flag=ignore,
                    visibility=self._dollar_visibility(obj, row))

    @staticmethod
    def _dollar_visibility(obj, row) -> float:
        """Dollár's visible fraction (``filterGtFun`` in dbEval.m): area of ``posv`` over
        area of ``pos``, ``inf`` when ``posv`` is not set (all zeros). Read by
        ``MissRateMetric``'s settings through ``LoadHDAAnnotations``."""
        v = obj.posv[row]
        if not np.any(v):
            return float('inf')
        w, h = float(obj.pos[row][2]), float(obj.pos[row][3])
        return float(v[2]) * float(v[3]) / (w * h)

    @staticmethod
    def _visible_fraction(obj, row) -> float:
        """Area of the visible box ``posv`` inside ``pos`` over the area of ``pos``; 1.0
        when ``posv`` is not set (the toolbox's "unknown", which passes its filters)."""
        vl, vt, vw, vh = (float(v) for v in obj.posv[row])
        if vw <= 0 or vh <= 0:
            return 1.0
        x, t, w, h = (float(v) for v in obj.pos[row])
        iw = min(x + w, vl + vw) - max(x, vl)
        ih = min(t + h, vt + vh) - max(t, vt)
        return max(iw, 0.0) * max(ih, 0.0) / (w * h)

    # ----------------------------------------------------------------------------------
    def filter_data(self) -> List[dict]:
        """Applies ``filter_cfg`` (``filter_empty_gt``, ``min_size``), counting what it drops."""
        data, dropped = apply_filter_cfg(self.data_list, self.filter_cfg, self.test_mode)
        self._log_summary(len(data), dropped)
        if not data:
            raise ValueError(
                f'HDADataset: no image left for cameras {self.cameras} under {self.data_root} '
                f'({dropped} removed by filter_cfg={self.filter_cfg}, '
                f'frame_step={self.frame_step}); see the load summary above. Check the '
                'cameras, the annotations, and filter_cfg (min_size is in pixels of the frame).')
        return data

    def _log_summary(self, n_images, n_filtered):
        keys = ['frames', 'used', 'missing', 'persons', 'ignore_crowd_unk', 'ignore_hidden',
                'occluded', 'ignore_occluded', 'clipped', 'zero_area', 'outside']
        if self.visibility_range:
            keys.insert(8, 'ignore_visibility')
        short = dict(ignore_crowd_unk='crowd/unk', ignore_hidden='hidden',
                     ignore_occluded='occl_ignored', ignore_visibility='vis_ignored',
                     zero_area='zero_area')
        total = {k: sum(st[k] for st in self.load_summary.values()) for k in keys}
        rows = [[cam] + [st[k] for k in keys] for cam, st in self.load_summary.items()]
        lines = [f'HDADataset load summary ({"test" if self.test_mode else "train"} mode, '
                 f'frame_step={self.frame_step}, occluded={self.occluded!r}):']
        lines += format_table(['camera'] + [short.get(k, k) for k in keys],
                              rows + [['total'] + [total[k] for k in keys]], indent='')
        lines.append('persons: boxes trained/scored as person; crowd/unk, hidden (hide=1) and '
                     'occl_ignored: ignore regions; clipped: cut to the image; zero_area, '
                     'outside: dropped (no area inside the image).')
        lines.append(f'images: {n_images} ({n_filtered} removed by filter_cfg={self.filter_cfg})')
        self.load_summary['total'] = OrderedDict(total, images=n_images,
                                                 filtered=n_filtered)
        print_log('\n'.join(lines), logger='current')
        if total['persons'] == 0:
            print_log(f'HDADataset: cameras {self.cameras} under {self.data_root} hold no '
                      'person box that is not ignored: nothing to learn or to score.',
                      logger='current', level=30)
