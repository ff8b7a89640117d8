"""The inference loop of ``tools/infer.py``: frames streamed from each source, batched to
the detector, tiled where the plan says so, written as they come; the time of every stage
counted, a summary at the end."""
import os.path as osp
import resource
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np

from ..fileio.alld import AllDWriter, alld_path
from ..fileio.coco_results import CocoWriter
from ..fileio.hda_layout import camera_id
from ..fileio.video import VideoWriter
from ..structures import MIN_PERSON_HEIGHT, Detections, xyxy_to_xywh
from ..utils.table import format_table
from .drawing import draw_detections
from .sources import Frame, FrameSource, FrameSourceError
from .tiling import TilePlan, merge_tiles, plan_tiles

__all__ = ['InferenceRunner', 'SourceResult', 'STAGES', 'peak_rss_mib']

#: The stages the summary splits time into.
STAGES = ('decode', 'preprocess', 'model', 'nms', 'write')


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, MiB (``ru_maxrss``)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class SourceResult:
    """What one input gave: frames, detections, the tile plans used, files written,
    what was skipped, and the error that stopped it (None when it ran to its end)."""
    source: FrameSource
    frames: int = 0
    detections: int = 0
    plans: Dict[tuple, TilePlan] = field(default_factory=dict)
    files: List[str] = field(default_factory=list)
    error: Optional[str] = None


class InferenceRunner:
    """Runs a backend over frame sources.

    Args:
        backend: :class:`~.backends.PyTorchBackend` or :class:`~.backends.OnnxRuntimeBackend`.
        out_dir: ``DIR``: ``allD.txt`` per camera go to ``DIR/hda_detections/NAME/``.
        name: ``NAME``, the detector folder.
        tile: ``'auto'``, ``'off'`` or ``(w, h)``.
        batch_size: images per model call (frames, or tiles of a frame).
        score_thr: rows kept at or above it (None: all the model returns).
        video_dir: with ``--video``, where the annotated ``.mp4`` files go.
        draw_thr: boxes drawn in the videos at or above it.
        min_person_height: the ``--tile auto`` rule's smallest person (frame pixels).
        progress: show a ``tqdm`` bar per input.
    """

    def __init__(self, backend, out_dir: str, name: str, tile='auto', batch_size: int = 8,
                 score_thr: Optional[float] = None, video_dir: Optional[str] = None,
                 draw_thr: float = 0.3, min_person_height: float = MIN_PERSON_HEIGHT,
                 progress: bool = True):
        if batch_size < 1:
            raise ValueError(f'--batch-size {batch_size}: 1 or more expected.')
        self.backend, self.out_dir, self.name, self.tile = backend, out_dir, name, tile
        self.batch_size, self.score_thr = batch_size, score_thr
        self.video_dir, self.draw_thr = video_dir, draw_thr
        self.min_person_height, self.progress = min_person_height, progress
        self.times = OrderedDict((s, 0.0) for s in STAGES)
        self.iou_thr = backend.nms_iou_thr()
        self.max_per_img = backend.max_per_img()
        self._resize = backend.preprocess.resize
        self._input_wh = backend.input_size()
        self._plans: Dict[tuple, TilePlan] = {}

    def plan(self, w: int, h: int) -> TilePlan:
        key = (w, h)
        if key not in self._plans:
            self._plans[key] = plan_tiles(
                self.tile, (w, h), self._input_wh, self._resize,
                self.backend.smallest_anchors(), self.backend.pos_iou_thr(),
                self.min_person_height)
        return self._plans[key]

    # -- one batch of frames ----------------------------------------------------------------
    def detect(self, images: List[np.ndarray]) -> List[Detections]:
        """Detections of whole frames, tiled by plan, in frame pixels."""
        t = self.times
        jobs, plans = [], []
        for img in images:
            h, w = img.shape[:2]
            p = self.plan(w, h)
            plans.append(p)
            jobs.append(img)
            jobs.extend(img[y1:y2, x1:x2] for x1, y1, x2, y2 in p.tiles)
        outs: List[Detections] = []
        for i in range(0, len(jobs), self.batch_size):
            t0 = time.perf_counter()
            inputs, samples = self.backend.preprocess(jobs[i:i + self.batch_size])
            t['preprocess'] += time.perf_counter() - t0
            outs.extend(self.backend(inputs, samples, t))
        t0 = time.perf_counter()
        dets, k = [], 0
        for p in plans:
            n = 1 + len(p.tiles)
            d = outs[k] if n == 1 else merge_tiles(outs[k], outs[k + 1:k + n], p, self.iou_thr,
                                                    self.max_per_img)
            if self.score_thr is not None:
                keep = d.scores >= self.score_thr
                d = Detections(d.boxes[keep], d.scores[keep], d.labels[keep])
            dets.append(d)
            k += n
        t['nms'] += time.perf_counter() - t0
        return dets

    # -- one input ---------------------------------------------------------------------------
    def run_source(self, source: FrameSource, coco: CocoWriter) -> SourceResult:
        """Every frame of ``source`` through the detector; its ``allD.txt`` (and video)
        committed even when a defect stops the input (then ``result.error`` says where)."""
        res = SourceResult(source)
        cam = camera_id(source.camera)
        path = alld_path(self.out_dir, self.name, cam)
        video = None
        if self.video_dir:
            stem = osp.splitext(source.name)[0] or source.camera
            video = VideoWriter(osp.join(self.video_dir, stem + '.mp4'), source.fps)
        try:
            alld = AllDWriter(path, cam)
        except BaseException:
            if video is not None:
                video.abort()
            raise
        bar = None
        start = time.perf_counter()
        it = iter(source)
        try:
            if self.progress:
                from tqdm import tqdm
                bar = tqdm(total=source.declared or None, desc=f'{source.camera} {source.name}',
                           unit='frame', dynamic_ncols=True)
            done = False
            while not done:
                batch: List[Frame] = []
                t0 = time.perf_counter()
                try:
                    while len(batch) < self.batch_size:
                        batch.append(next(it))
                except StopIteration:
                    done = True
                except FrameSourceError as e:
                    res.error, done = str(e), True
                self.times['decode'] += time.perf_counter() - t0
                if not batch:
                    break
                dets = self.detect([f.image for f in batch])
                t0 = time.perf_counter()
                for f, d in zip(batch, dets):
                    xywh = xyxy_to_xywh(d.boxes)
                    scores = d.scores.astype(np.float64)
                    alld.write(f.index, xywh, scores)
                    coco.write(cam, f.index, f.name, xywh, scores)
                    if video is not None:
                        video.write(draw_detections(f.image, d, self.draw_thr))
                    res.detections += len(d)
                self.times['write'] += time.perf_counter() - t0
                res.frames += len(batch)
                if bar is not None:
                    bar.update(len(batch))
                    bar.set_postfix_str(
                        f'{res.frames / max(time.perf_counter() - start, 1e-9):.2f} frames/s, '
                        f'{res.detections} dets')
        finally:
            if bar is not None:
                bar.close()
            # What came before a defect is committed; a video without a frame is dropped
            # (its container closed, its staged file removed), whatever stopped the input.
            try:
                alld.commit()
                res.files.append(path)
            finally:
                if video is not None:
                    if video.frames:
                        video.commit()
                        res.files.append(video.path)
                    else:
                        video.abort()
        res.plans = dict(self._plans)
        return res

    # -- the end -----------------------------------------------------------------------------
    def summary(self, results: List[SourceResult], wall: float, extra: str = '') -> str:
        """The one-screen summary: per input, totals, and where the time went."""
        frames = sum(r.frames for r in results)
        dets = sum(r.detections for r in results)
        rows = []
        for r in results:
            status = 'ok' if r.error is None else 'STOPPED'
            skipped = len(r.source.skipped)
            rows.append([r.source.camera, r.source.name, r.frames,
                         r.source.declared or '?', r.detections, skipped, status])
        lines = [f'inference: {self.backend.name} backend, batch size {self.batch_size}, '
                 f'tile {self.tile if isinstance(self.tile, str) else "%dx%d" % self.tile}'
                 + (f', {extra}' if extra else '')]
        lines += format_table(['camera', 'input', 'frames', 'declared', 'detections',
                               'skipped', 'status'], rows)
        for p in self._plans.values():
            lines.append(f'  {p.frame_size[0]}x{p.frame_size[1]} frames: {p.reason}')
        total = sum(self.times.values())
        trows = [[s, f'{v:.2f}', f'{1000 * v / max(frames, 1):.1f}',
                  f'{100 * v / max(total, 1e-9):.0f}%'] for s, v in self.times.items()]
        lines += format_table(['stage', 'seconds', 'ms/frame', 'share'], trows)
        if self.backend.name == 'onnxruntime':
            lines.append('  (onnxruntime: NMS runs inside the graph and is counted under '
                         'model; nms is the split by image and the tile merge)')
        lines.append(f'{frames} frames, {dets} detections in {wall:.1f} s: '
                     f'{frames / max(wall, 1e-9):.2f} frames/s end to end; peak RSS '
                     f'{peak_rss_mib():.0f} MiB')
        for r in results:
            for s in r.source.skipped:
                lines.append(f'  skipped (--skip-bad): {s}')
            if r.error:
                lines.append(f'  {r.source.path}: stopped after {r.frames} frames: {r.error}')
        return '\n'.join(lines)
