"""``DumpHDADetections``: the model's detections on every test frame, written in the HDA
release's own form (``allD.txt`` per camera) and as COCO-style results.

``tools/test.py CONFIG CKPT --hda-detections NAME [--hda-out DIR]`` appends it to the test
evaluator, as MMDetection's ``--out`` appends ``DumpDetResults``. The files go to
``DIR/hda_detections/NAME/cameraNN/Detections/allD.txt``, where the benchmark's
``dbEval.m``, the HDA re-identification code and ``tools/analysis/hda_benchmark.py`` read
them, and ``DIR/hda_detections/NAME/coco_results.json``.
"""
import os.path as osp
from collections import defaultdict
from typing import Optional, Sequence

import numpy as np
from mmdet.registry import METRICS
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from ...fileio.alld import AllDWriter, alld_path, check_detector_dir, mark_detector_dir
from ...fileio.coco_results import COCO_IMAGE_ID_RULE, CocoWriter
from ...fileio.folder_lock import FolderLock
from ...fileio.hda_layout import camera_name, hda_frame_of
from ...structures.boxes import normalise_xyxy, xyxy_to_xywh
from ...utils.signals import sigterm_raises
from .finite_predictions import class_predictions

__all__ = ['DumpHDADetections']


@METRICS.register_module()
class DumpHDADetections(BaseMetric):
    """Writes the person detections of every test frame as the release's ``allD.txt``.

    Rows are ``camera, frame (1-based), x, y, w, h, score``, frames ascending, each frame's
    boxes in the model's order, numbers in shortest round-trip form (reading them back
    gives the same float64 values). Frames without detections have no rows, as in the
    release's files. A detector folder that hda-ssd did not write (the release's own
    ``AcfInria``, ``GtAnnotationsAll``) is never overwritten. Boxes are written with
    their corners in order (``normalise_xyxy``: never a negative width).

    Every file is staged first and the files replace the old ones only once all are
    written, under the folder's lock (one writer at a time): a failure while writing (a
    full disk, an interrupt) removes the staged files and leaves what was there. Each file
    replaces its old one only when complete; should the commits themselves fail midway,
    ``hda-ssd.json`` says which files this run replaced and why it stopped (``state``
    ``failed: ...``). Otherwise it records, per camera, the frames written.

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
            cam, frame = hda_frame_of(sample)
            boxes, scores = class_predictions(sample, self.label)
            self.results.append((cam, frame, sample.get('img_path', ''),
                                 xyxy_to_xywh(normalise_xyxy(boxes)),
                                 scores.astype(np.float64)))

    def compute_metrics(self, results: list) -> dict:
        by_cam = defaultdict(list)
        for r in results:
            by_cam[r[0]].append(r)
        # SIGTERM unwinds as Ctrl-C does while files are staged, so they are removed; only
        # here: the VOC metrics before fork Pools, which must keep SIGTERM's default
        with sigterm_raises(KeyboardInterrupt), FolderLock(
                self.det_dir, hint='wait for it, or choose another --hda-detections name'):
            return self._write(by_cam)

    def _write(self, by_cam: dict) -> dict:
        coco_path = osp.join(self.det_dir, 'coco_results.json')
        staged, lines, files = [], [], {}
        mark_detector_dir(self.det_dir, self.name, 'hda-ssd DumpHDADetections', self.info,
                          state='running')
        committed = {}
        try:
            for cam in sorted(by_cam):
                items = sorted(by_cam[cam], key=lambda r: r[1])
                frames = np.concatenate([np.full(len(r[4]), r[1]) for r in items])
                boxes = np.concatenate([r[3] for r in items]).reshape(-1, 4)
                scores = np.concatenate([r[4] for r in items])
                path = alld_path(self.out_dir, self.name, cam)
                w = AllDWriter(path, cam)
                staged.append((osp.relpath(path, self.det_dir), w))
                n = w.write(frames, boxes, scores)
                lines.append(f'  {camera_name(cam)}: {len(items)} frames {items[0][1]}..'
                             f'{items[-1][1]}, {n} detections -> {path}')
                files[staged[-1][0]] = dict(
                    input=f'the test set\'s {camera_name(cam)} frames', camera=cam,
                    status='completed', frames=len(items), detections=n)
            coco = CocoWriter(coco_path)
            staged.append(('coco_results.json', coco))
            for cam in sorted(by_cam):
                for _, frame, img_path, b, sc in sorted(by_cam[cam], key=lambda r: r[1]):
                    coco.write(cam, frame, img_path, b, sc)
            files['coco_results.json'] = dict(status='completed', boxes=coco.count,
                                              image_id=COCO_IMAGE_ID_RULE)
            for rel, w in staged:  # every file complete: now they replace what was there
                w.commit()
                committed[rel] = files[rel]
        except BaseException as e:
            for rel, w in staged:
                if rel not in committed:
                    w.abort()
            # the record says what this run replaced before it failed, and why it stopped
            mark_detector_dir(self.det_dir, self.name, 'hda-ssd DumpHDADetections',
                              self.info, committed, state=f'failed: {type(e).__name__}: {e}')
            raise
        mark_detector_dir(self.det_dir, self.name, 'hda-ssd DumpHDADetections', self.info,
                          files, state='complete')
        MMLogger.get_current_instance().info(
            f'hda detections {self.name!r} (allD.txt: camera, frame (1-based), x, y, w, h, '
            'score):\n' + '\n'.join(lines) + f'\n  COCO-style results ({coco.count} boxes, '
            f'{COCO_IMAGE_ID_RULE}): {coco_path}')
        return {}
