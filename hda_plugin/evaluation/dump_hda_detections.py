"""``DumpHDADetections``: the model's detections on every test frame, written in the HDA
release's own form (``allD.txt`` per camera) and as COCO-style results.

``tools/test.py CONFIG CKPT --hda-detections NAME [--hda-out DIR]`` appends it to the test
evaluator, as MMDetection's ``--out`` appends ``DumpDetResults``. The files go to
``DIR/hda_detections/NAME/cameraNN/Detections/allD.txt``, where the benchmark's
``dbEval.m``, the HDA re-identification code and ``tools/analysis/hda_benchmark.py`` read
them, and ``DIR/hda_detections/NAME/coco_results.json``.
"""
import datetime
import json
import os
import os.path as osp
from collections import defaultdict
from typing import Optional, Sequence

import numpy as np
from mmdet.registry import METRICS
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from ..datasets.hda_detections import alld_path, write_alld
from ..datasets.layout import HDA_LAYOUT, hda_frame_of
from ..fileio.atomic import write_atomic
from .finite_predictions import check_finite_predictions
from .miss_rate_metric import _np, xyxy_to_xywh

__all__ = ['DumpHDADetections', 'check_detector_dir', 'mark_detector_dir', 'coco_record']

_MARKER = 'hda-ssd.json'  # written beside the cameras: this folder holds our output


def check_detector_dir(out_dir: str, name: str, option: str = '--hda-detections') -> str:
    """``out_dir/hda_detections/<name>``, after checking that writing there destroys nothing
    hda-ssd did not write (the release's own ``AcfInria``, ``GtAnnotationsAll``)."""
    if not name or osp.basename(name) != name or name in ('.', '..'):
        raise ValueError(f'{option} {name!r}: a plain folder name is expected, '
                         'e.g. SSD512_run3.')
    det_dir = osp.join(out_dir, HDA_LAYOUT['detections'], name)
    if osp.isdir(det_dir) and os.listdir(det_dir) and not osp.isfile(osp.join(det_dir, _MARKER)):
        raise FileExistsError(
            f'{det_dir} exists and was not written by hda-ssd (no {_MARKER}): it may '
            f'be the release\'s own detections or ground truth. Choose another name for '
            f'{option}, or another output folder.')
    return det_dir


def mark_detector_dir(det_dir: str, name: str, writer: str, info: dict) -> None:
    """Writes ``hda-ssd.json`` (who wrote the folder, with what) into ``det_dir``."""
    os.makedirs(det_dir, exist_ok=True)
    write_atomic(json.dumps(dict(info, writer=writer, detector=name,
                                 written=datetime.datetime.now().isoformat(timespec='seconds'),
                                 columns='camera,frame,x,y,w,h,score'), indent=1),
                 osp.join(det_dir, _MARKER), mode='w')


def coco_record(cam: int, frame: int, file_name: str, box_xywh, score: float) -> dict:
    """One COCO-style result: ``image_id = camera * 100000 + frame`` (1-based frame)."""
    return dict(image_id=cam * 100000 + frame, file_name=file_name, camera=cam, frame=frame,
                category_id=1, bbox=box_xywh, score=score)


@METRICS.register_module()
class DumpHDADetections(BaseMetric):
    """Writes the person detections of every test frame as the release's ``allD.txt``.

    Rows are ``camera, frame (1-based), x, y, w, h, score``, frames ascending, each frame's
    boxes in the model's order, numbers in shortest round-trip form (reading them back
    gives the same float64 values). Frames without detections have no rows, as in the
    release's files. A detector folder that hda-ssd did not write (the release's own
    ``AcfInria``, ``GtAnnotationsAll``) is never overwritten.

    Args:
        name (str): detector name, the folder under ``hda_detections/``.
        out_dir (str): root to write ``hda_detections/`` under (the release root by
            default in ``tools/test.py``).
        label (int): the person class id. Defaults to 0.
        info (dict, optional): recorded in ``hda-ssd.json`` (config, checkpoint).
        collect_device (str): as in MMEngine's ``BaseMetric``.
    """

    def __init__(self, name: str, out_dir: str, label: int = 0, info: Optional[dict] = None,
                 collect_device: str = 'cpu', prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.det_dir = check_detector_dir(out_dir, name)
        self.name, self.out_dir, self.label, self.info = name, out_dir, label, info or {}

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            check_finite_predictions(sample)
            cam, frame = hda_frame_of(sample)
            pred = sample['pred_instances']
            keep = _np(pred['labels']) == self.label
            self.results.append((cam, frame, sample.get('img_path', ''),
                                 xyxy_to_xywh(_np(pred['bboxes']).reshape(-1, 4)[keep]),
                                 _np(pred['scores']).reshape(-1)[keep].astype(np.float64)))

    def compute_metrics(self, results: list) -> dict:
        by_cam = defaultdict(list)
        for r in results:
            by_cam[r[0]].append(r)
        mark_detector_dir(self.det_dir, self.name, 'hda-ssd DumpHDADetections', self.info)
        coco, lines = [], []
        for cam in sorted(by_cam):
            items = sorted(by_cam[cam], key=lambda r: r[1])
            frames = np.concatenate([np.full(len(r[4]), r[1]) for r in items])
            boxes = np.concatenate([r[3] for r in items]).reshape(-1, 4)
            scores = np.concatenate([r[4] for r in items])
            path = alld_path(self.out_dir, self.name, cam)
            n = write_alld(path, cam, frames, boxes, scores)
            lines.append(f'  cam{cam:02d}: {len(items)} frames {items[0][1]}..{items[-1][1]}, '
                         f'{n} detections -> {path}')
            for _, frame, img_path, b, s in items:
                for box, score in zip(b.tolist(), s.tolist()):
                    coco.append(coco_record(cam, frame, img_path, box, score))
        coco_path = osp.join(self.det_dir, 'coco_results.json')
        write_atomic(json.dumps(coco), coco_path, mode='w')
        MMLogger.get_current_instance().info(
            f'hda detections {self.name!r} (allD.txt: camera, frame (1-based), x, y, w, h, '
            'score):\n' + '\n'.join(lines) + f'\n  COCO-style results ({len(coco)} boxes, '
            f'image_id = camera * 100000 + frame): {coco_path}')
        return {}
