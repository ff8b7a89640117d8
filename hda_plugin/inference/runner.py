"""The inference loop of ``tools/infer.py``: frames streamed from each source, batched to
the detector, tiled where the plan says so, written as they come; the time of every stage
counted, a summary at the end.

An input's files (``allD.txt``, video) are staged and committed when the input ends, or
stops at a frame defect of the file (a truncated ``.seq`` or video: then marked
``STOPPED``); any other end (an interrupt, a full disk, a backend error) aborts them:
what was there before stays, the staged files are removed."""
import glob
import math
import numbers
import os
import os.path as osp
import re
import resource
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import numpy as np

from ..fileio.alld import AllDWriter, alld_path
from ..fileio.atomic import writing
from ..fileio.coco_results import CocoWriter
from ..fileio.hda_layout import camera_id, camera_name
from ..fileio.video import VideoWriter
from ..structures import MIN_PERSON_HEIGHT, Detections, normalise_xyxy, xyxy_to_xywh
from ..utils.table import format_table
from .drawing import draw_detections
from .sources import Frame, FrameSource, FrameSourceError
from .tiling import MAX_TILES, TilePlan, merge_tiles, plan_tiles

__all__ = ['InferenceRunner', 'SourceResult', 'STAGES', 'peak_rss_mib', 'check_score',
           'video_names', 'check_outputs']


def check_score(option: str, value) -> Optional[float]:
    """``value`` as a float score threshold in [0, 1] (None stays None); a clear error for
    a string, NaN, Inf or a number outside (NaN kept no detection, with status ok)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f'{option} {value!r}: a number in [0, 1] expected, got a '
                        f'{type(value).__name__}.')
    v = float(value)
    if not (math.isfinite(v) and 0.0 <= v <= 1.0):
        raise ValueError(f'{option} {value!r}: a finite score in [0, 1] expected (scores are '
                         'probabilities; NaN compares false with every score and would drop '
                         'every detection).')
    return v


def _source_label(source: FrameSource) -> str:
    """What a source is called in its video's name: the file's stem (``camera17``), the
    image folder (``cam18``), a glob's folder."""
    p = source.path.rstrip('/') or source.path
    base = osp.basename(p)
    if glob.has_magic(base):
        base = osp.basename(osp.dirname(p)) or 'glob'
    elif osp.isfile(p):
        base = osp.splitext(base)[0]
    return re.sub(r'[^A-Za-z0-9._-]+', '_', base).strip('._') or 'input'


def video_names(sources: Sequence[FrameSource]) -> List[str]:
    """The ``--video`` file name of each source: ``<camera>_<source>.mp4``
    (``cam18_camera18.mp4``, ``cam19_cam19.mp4`` for ``.../cam19/*.png``), a ``_2``,
    ``_3`` ... suffix where two would be equal."""
    seen, out = set(), []
    for s in sources:
        base = f'{camera_name(s.camera)}_{_source_label(s)}'
        name, k = base, 1
        while name.lower() in seen:
            k += 1
            name = f'{base}_{k}'
        seen.add(name.lower())
        out.append(name + '.mp4')
    return out


def check_outputs(outputs: Sequence[str], sources: Sequence[FrameSource],
                  writers: Optional[Sequence[Optional[FrameSource]]] = None) -> None:
    """Refuses, before any work, an output path that resolves (real paths: links followed;
    hard links by device and inode) to a file an input reads, or to something that is not
    a regular file, naming both; and two outputs that resolve to one file (two inputs of
    one camera: the second ``allD.txt`` would replace the first while the COCO file kept
    the rows of both), naming the inputs (``writers[i]`` writes ``outputs[i]``; None: the
    run's own files) and the file."""
    writers = list(writers) if writers is not None else [None] * len(outputs)
    if len(writers) != len(outputs):
        raise ValueError(f'{len(writers)} writers for {len(outputs)} outputs.')
    planned: Dict[str, int] = {}
    for i, out in enumerate(outputs):
        j = planned.setdefault(osp.normcase(osp.realpath(out)), i)
        if j == i:
            continue
        a, b = writers[j], writers[i]
        who = ' and '.join(w.path for w in (a, b) if w is not None) or 'this run'
        cam = f"{b.camera}'s " if b is not None and a is not None and a.camera == b.camera \
            else ''
        also = f' (as {out})' if outputs[j] != out else ''
        raise ValueError(
            f'{who} both write {cam}{osp.basename(outputs[j])}: {outputs[j]}{also}; the '
            'second would replace the first while coco_results.json kept the rows of both. '
            'Give one input per camera in a run: run the others under a different --name '
            '(each detector folder holds one allD.txt per camera), or under another --camera.')
    inputs, inodes = {}, {}
    for s in sources:
        for f in s.input_files():
            inputs.setdefault(osp.realpath(f), f)
            try:
                st = os.stat(f)
                inodes.setdefault((st.st_dev, st.st_ino), f)
            except OSError:
                pass
    for out in outputs:
        real = osp.realpath(out)
        try:
            st = os.stat(out)
            same = inodes.get((st.st_dev, st.st_ino))
        except OSError:
            same = None
        if real in inputs or same:
            raise ValueError(
                f'{out} would be written over the input {inputs.get(real, same)} (the same '
                'file). Outputs never replace inputs: choose another --out-dir or --name.')
        if osp.lexists(out) and not osp.isfile(real):
            raise ValueError(f'{out} exists and is not a file hda-ssd writes (a folder, a '
                             'device or a dangling link): move it, or choose another '
                             '--out-dir or --name.')


#: The stages the summary splits time into.
STAGES = ('decode', 'preprocess', 'model', 'nms', 'write')


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, MiB (``ru_maxrss``)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class SourceResult:
    """What one input gave: frames, detections, the tile plans used, files written,
    what was skipped, the frame defect that stopped it (``error``, None when it ran to its
    end; its files are committed) and, when anything else ended it (``failure``), the
    cause (its files were not committed)."""
    source: FrameSource
    frames: int = 0
    detections: int = 0
    plans: Dict[tuple, TilePlan] = field(default_factory=dict)
    files: List[str] = field(default_factory=list)
    error: Optional[str] = None
    last_frame: int = 0
    alld_path: str = ''
    video_path: Optional[str] = None
    failure: Optional[str] = None

    @property
    def status(self) -> str:
        """``completed``, ``stopped`` (a frame defect; committed) or ``failed``."""
        return 'failed' if self.failure else 'stopped' if self.error else 'completed'

    def record(self) -> dict:
        """This input's entry in the run record (``hda-ssd.json``)."""
        d = dict(input=self.source.path, camera=camera_id(self.source.camera),
                 status=self.status, frames=self.frames, detections=self.detections)
        if self.error:
            d.update(stopped_at=self.last_frame + 1, reason=self.error)
        if self.failure:
            d.update(failed_after_frames=self.frames, reason=self.failure,
                     committed=False)
        if self.video_path and self.status != 'failed':
            d['video'] = self.video_path
        return d


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
        max_tiles: most tiles per frame (``--max-tiles``; 0: no limit).
    """

    def __init__(self, backend, out_dir: str, name: str, tile='auto', batch_size: int = 8,
                 score_thr: Optional[float] = None, video_dir: Optional[str] = None,
                 draw_thr: float = 0.3, min_person_height: float = MIN_PERSON_HEIGHT,
                 progress: bool = True, max_tiles: int = MAX_TILES):
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or \
                batch_size < 1:
            raise ValueError(f'--batch-size {batch_size!r}: a whole number, 1 or more, '
                             'expected.')
        self.backend, self.out_dir, self.name, self.tile = backend, out_dir, name, tile
        self.batch_size, self.score_thr = batch_size, check_score('--score-thr', score_thr)
        self.video_dir, self.draw_thr = video_dir, check_score('--draw-thr', draw_thr)
        self.max_tiles = max_tiles
        self.failed: Optional[SourceResult] = None  # the input a failure ended
        self.min_person_height, self.progress = min_person_height, progress
        self.times = OrderedDict((s, 0.0) for s in STAGES)
        self.iou_thr = backend.nms_iou_thr()
        self.max_per_img = backend.max_per_img()
        self._resize = backend.preprocess.resize
        self._input_wh = backend.input_size()
        self._plans: Dict[tuple, TilePlan] = {}
        self._written: Dict[str, str] = {}  # allD.txt files committed (real path: input)

    def plan(self, w: int, h: int) -> TilePlan:
        key = (w, h)
        if key not in self._plans:
            self._plans[key] = plan_tiles(
                self.tile, (w, h), self._input_wh, self._resize,
                self.backend.smallest_anchors(), self.backend.pos_iou_thr(),
                self.min_person_height, max_tiles=self.max_tiles)
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
                d = d.select(d.scores >= self.score_thr)
            dets.append(d)
            k += n
        t['nms'] += time.perf_counter() - t0
        return dets

    # -- one input ---------------------------------------------------------------------------
    def run_source(self, source: FrameSource, coco: CocoWriter,
                   video_path: Optional[str] = None) -> SourceResult:
        """Every frame of ``source`` through the detector.

        Its ``allD.txt`` (and video, to ``video_path`` or ``video_dir``) are committed when
        the input ends or stops at a frame defect (``result.error`` says where); on any
        other exception (``KeyboardInterrupt`` included) they are aborted, what was there
        stays, :attr:`failed` is the result (``failure`` the cause) and the exception goes
        on."""
        res = SourceResult(source)
        cam = camera_id(source.camera)
        res.alld_path = path = alld_path(self.out_dir, self.name, cam)
        earlier = self._written.get(osp.realpath(path))
        if earlier is not None:  # tools/infer.py refuses it before any work (check_outputs)
            raise ValueError(
                f'{earlier} and {source.path} both write {source.camera}\'s allD.txt: {path}; '
                'the second would replace the first while the COCO file kept the rows of '
                'both. Run one of them under a different name (--name).')
        if self.video_dir and video_path is None:
            video_path = osp.join(self.video_dir, video_names([source])[0])
        res.video_path = video_path
        alld = video = bar = None
        start = time.perf_counter()
        try:
            alld = AllDWriter(path, cam)
            if video_path:
                video = VideoWriter(video_path, source.fps)
            it = iter(source)
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
                    # corners in order: a negative width would be a row no reader accepts
                    xywh = xyxy_to_xywh(normalise_xyxy(d.boxes))
                    scores = d.scores.astype(np.float64)
                    with writing(alld.path):
                        alld.write(f.index, xywh, scores)
                    with writing(coco.path):
                        coco.write(cam, f.index, f.name, xywh, scores)
                    if video is not None:
                        h, w = f.image.shape[:2]
                        if w < 2 or h < 2:
                            raise ValueError(
                                f'{source.path}: frame {f.index} is {w}x{h} pixels; --video '
                                'needs frames of at least 2x2 (H.264). Leave out --video for '
                                'this input.')
                        with writing(video.path):
                            video.write(draw_detections(f.image, d, self.draw_thr))
                    res.detections += len(d)
                    res.last_frame = f.index
                self.times['write'] += time.perf_counter() - t0
                res.frames += len(batch)
                if bar is not None:
                    bar.update(len(batch))
                    bar.set_postfix_str(
                        f'{res.frames / max(time.perf_counter() - start, 1e-9):.2f} frames/s, '
                        f'{res.detections} dets')
            if bar is not None:
                bar.close()
                bar = None
            # The input ended, or stopped at a frame defect: what came before is committed;
            # a video without a frame is dropped (container closed, staged file removed).
            alld.commit()
            self._written[osp.realpath(path)] = source.path
            res.files.append(path)
            if video is not None:
                if video.frames:
                    video.commit()
                    res.files.append(video.path)
                else:
                    video.abort()
        except BaseException as e:
            if bar is not None:
                bar.close()
            for w in (video, alld):
                if w is not None:
                    w.abort()
            res.failure = f'{type(e).__name__}: {e}' if str(e) else type(e).__name__
            res.plans = dict(self._plans)
            self.failed = res
            raise
        res.plans = dict(self._plans)
        return res

    # -- the end -----------------------------------------------------------------------------
    def summary(self, results: List[SourceResult], wall: float, extra: str = '') -> str:
        """The one-screen summary: per input, totals, and where the time went."""
        frames = sum(r.frames for r in results)
        dets = sum(r.detections for r in results)
        rows = []
        for r in results:
            status = 'ok' if r.status == 'completed' else r.status.upper()
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
            if r.failure:
                lines.append(f'  {r.source.path}: FAILED after {r.frames} frames, nothing '
                             f'committed for it: {r.failure}')
        return '\n'.join(lines)
