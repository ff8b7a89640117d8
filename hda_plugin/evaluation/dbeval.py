"""The HDA benchmark's log-average miss rate (protocol ``hda-benchmark``), rule for rule as
``dbEval.m`` computes it (see :mod:`.protocols`), on ``allD.txt`` files or on arrays.

Used by ``HDABenchmarkMetric`` (detections from the model, in memory) and
``tools/analysis/hda_benchmark.py`` (detections from ``allD.txt``): both end in
:func:`evaluate_benchmark`, and take their notes (:func:`benchmark_notes`), keys
(:func:`benchmark_metrics`) and table titles (:func:`~.protocols.hda_benchmark_title`)
from here, so a model's figure from ``tools/test.py`` and the figure of its exported
``allD.txt`` are the same computation on the same numbers, said the same way.
"""
import logging
import os.path as osp
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
from mmengine.logging import print_log

from ..fileio.alld import DETECTOR_MARKER, find_alld, read_alld
from ..fileio.hda_layout import (
    HDA_LAYOUT,
    annotated_cameras,
    benchmark_annotation_path,
    camera_id,
    camera_name,
)
from ..fileio.vbb import load_vbb
from ..structures.boxes import resize_xywh_to_aspect, xywh_to_xyxy
from ..utils.table import format_table
from .functional import (
    REF_FPPI,
    MissRateSummary,
    log_average_miss_rate,
    match_batch,
    per_group_roc_curves,
    roc_curve,
    zero_miss_rate_warning,
)
from .protocols import HDA_BENCHMARK

__all__ = ['CameraBoxes', 'BenchmarkFrame', 'benchmark_n_frames', 'load_benchmark_gt',
           'load_benchmark_dt', 'BenchmarkMatch', 'match_benchmark', 'evaluate_benchmark',
           'benchmark_cameras', 'DetectorScores', 'score_detectors',
           'evaluate_predictions', 'benchmark_table', 'benchmark_notes', 'benchmark_metrics',
           'GT_FROM_VBB_RULE']

_PERSON_RE = re.compile(r'^person\d*$')

#: How ground truth is built when a release has no ``GtAnnotationsAll`` file (printed
#: with every figure computed on it).
GT_FROM_VBB_RULE = (
    'built by hda-ssd from hda_annotations/camNN.txt, not the release\'s GtAnnotationsAll: '
    'every `person`/`person<ID>` object with hide=0, its `pos` box in each frame from str '
    'to end (occluded ones included); crowd, personUnk and hide=1 objects and boxes with '
    'w<=0 or h<=0 left out')


@dataclass
class CameraBoxes:
    """One camera's boxes for the benchmark: ``frame`` 1-based, ``boxes`` ``x, y, w, h``
    (float64), ``scores`` (ground truth: zeros), in file order; ``n_frames`` from the vbb
    file; ``source`` and ``counts`` say where they came from and what was left out."""
    camera: int
    n_frames: int
    frame: np.ndarray
    boxes: np.ndarray
    scores: np.ndarray
    source: str = ''
    counts: Dict[str, int] = field(default_factory=dict)
    from_vbb: bool = False  # ground truth built by GT_FROM_VBB_RULE


@dataclass
class BenchmarkFrame:
    """A model's detections on one frame (what ``HDABenchmarkMetric.process`` keeps; a
    dataclass, which MMEngine's ``_to_cpu`` passes through as it is)."""
    camera: int
    frame: int  # 1-based, as the vbb file and allD.txt
    boxes: np.ndarray  # (D, 4) x y w h, float64
    scores: np.ndarray  # (D,) float64


def benchmark_n_frames(root: str, cam) -> int:
    """``nFrame`` of ``hda_annotations/camNN.txt``: the frames dbEval evaluates."""
    return load_vbb(benchmark_annotation_path(root, cam)).n_frames


def _in_range(cam: int, n_frames: int, frame, boxes, scores, source, counts):
    """Rows of frames 1..nFrame, sorted by frame (stable: file order inside a frame, as
    ``bbs(bbs(:,1)==f+1, :)``); the others counted, as dbEval never reads them."""
    frame = np.asarray(frame, dtype=np.int64)
    ok = (frame >= 1) & (frame <= n_frames)
    counts = dict(counts, read=int(ok.sum()), outside_frames=int((~ok).sum()))
    order = np.argsort(frame[ok], kind='stable')
    return CameraBoxes(cam, n_frames, frame[ok][order], np.asarray(boxes)[ok][order],
                       np.asarray(scores, dtype=np.float64)[ok][order], source, counts)


def _gt_from_vbb(root: str, cam: int, n_frames: Optional[int]) -> CameraBoxes:
    path = benchmark_annotation_path(root, cam)
    ann = load_vbb(path)
    n_frames = ann.n_frames if n_frames is None else n_frames
    frames, boxes, skipped = [], [], 0
    for obj in ann.objects:
        if obj.hide or not _PERSON_RE.match(obj.label):
            continue
        for f in range(obj.start, obj.end + 1):
            b = obj.pos[f - obj.start]
            if b[2] <= 0 or b[3] <= 0:
                skipped += 1
                continue
            frames.append(f)
            boxes.append(b)
    boxes = np.array(boxes, dtype=np.float64).reshape(-1, 4)
    cb = _in_range(cam, n_frames, frames, boxes, np.zeros(len(boxes)),
                   f'{path} ({GT_FROM_VBB_RULE})', dict(rows=len(frames), zero_size=skipped))
    cb.from_vbb = True
    return cb


def load_benchmark_gt(root: str, cam, gt: str = HDA_BENCHMARK['gt'],
                      n_frames: Optional[int] = None, build_from_vbb: bool = True
                      ) -> CameraBoxes:
    """Ground truth of one camera: ``hda_detections/<gt>/cameraNN/Detections/allD.txt``
    (every row a regular person, the score column unused, as dbEval's ``loadGt``), or,
    when the release has none and ``build_from_vbb``, built from the vbb file by
    :data:`GT_FROM_VBB_RULE` (``source`` says so). ``n_frames`` defaults to the vbb
    file's ``nFrame`` (then ``.n_frames`` of the result)."""
    cam = camera_id(cam)
    gt_dir = osp.join(root, HDA_LAYOUT['detections'], gt)
    if osp.isfile(osp.join(gt_dir, DETECTOR_MARKER)):
        raise ValueError(
            f'{gt_dir} holds {DETECTOR_MARKER}: hda-ssd wrote it, as a detector\'s output, so '
            f'it is detections, not the release\'s ground truth. Score against the '
            f'release\'s own {HDA_BENCHMARK["gt"]} (--gt), and write detections under '
            'another name.')
    try:
        path = find_alld(root, gt, cam)
    except FileNotFoundError:
        if not build_from_vbb:
            raise
        return _gt_from_vbb(root, cam, n_frames)  # reads the vbb file once, for both
    n_frames = benchmark_n_frames(root, cam) if n_frames is None else n_frames
    a = read_alld(path)
    return _in_range(cam, n_frames, a.frame, a.boxes, np.zeros(len(a)), path, a.counts)


def load_benchmark_dt(root: str, detector: str, cam, n_frames: Optional[int] = None
                      ) -> CameraBoxes:
    """One detector's ``allD.txt`` on one camera, rows of frames 1..nFrame (others
    counted in ``counts['outside_frames']``)."""
    cam = camera_id(cam)
    n_frames = benchmark_n_frames(root, cam) if n_frames is None else n_frames
    a = read_alld(find_alld(root, detector, cam))
    counts = dict(a.counts, other_camera=int((a.camera != cam).sum()))
    return _in_range(cam, n_frames, a.frame, a.boxes, a.scores, a.path, counts)



def cam_index_of(values: np.ndarray, cams: Sequence[int]) -> np.ndarray:
    """Position of each camera id of ``values`` in the sorted ``cams``."""
    return np.searchsorted(np.asarray(cams), values)


def benchmark_notes(gt: Sequence[CameraBoxes],
                    dt: Optional[Mapping[str, Sequence[CameraBoxes]]] = None) -> List[str]:
    """What the benchmark did not score, and where its ground truth came from, from the
    counts of :func:`load_benchmark_gt` / :func:`load_benchmark_dt`: ground truth built
    from the vbb files (first), ground-truth rows outside frames 1..nFrame, then per
    detector (``dt``: name -> its cameras) rows outside the frames, rows naming another
    camera, empty lines."""
    built = [g.camera for g in gt if g.from_vbb]
    notes = [f'ground truth of cameras {built} {GT_FROM_VBB_RULE}'] if built else []
    for g in gt:
        if g.counts.get('outside_frames'):
            notes.append(f'{camera_name(g.camera)}: {g.counts["outside_frames"]} ground-truth rows '
                         f'outside frames 1..{g.n_frames}, not read (as dbEval)')
    for det, cams in (dt or {}).items():
        for d in cams:
            c, where = d.counts, f'{det} {camera_name(d.camera)}'
            if c.get('outside_frames'):
                notes.append(f'{where}: {c["outside_frames"]} rows outside frames '
                             f'1..{d.n_frames}, not read (dbEval reads frames 1..nFrame)')
            if c.get('other_camera'):
                notes.append(f'{where}: {c["other_camera"]} rows name another camera in '
                             'column 1 (dbEval ignores that column; read)')
            if c.get('blank'):
                notes.append(f'{where}: {c["blank"]} empty lines skipped')
    return notes


def benchmark_metrics(results: 'OrderedDict[str, MissRateSummary]',
                      per_camera: bool = True) -> 'OrderedDict[str, float]':
    """The keys of :func:`evaluate_benchmark` results: ``MR-2`` (the pool) and, with
    ``per_camera``, ``MR-2_camNN`` (``hda/...`` in the metric, ``tools/analysis/
    hda_benchmark.py --json``)."""
    out = OrderedDict([('MR-2', results['pool'].mr2)])
    if per_camera:
        out.update((f'MR-2_{k}', v.mr2) for k, v in results.items() if k != 'pool')
    return out


def _flatten(per_cam: Sequence[CameraBoxes], cam_index: Dict[int, int], img_base):
    img, boxes, scores = [], [], []
    for cb in per_cam:
        img.append(img_base[cam_index[cb.camera]] + cb.frame - 1)
        boxes.append(cb.boxes.reshape(-1, 4))
        scores.append(cb.scores)
    return (np.concatenate(img).astype(np.int64) if img else np.zeros(0, np.int64),
            np.concatenate(boxes) if boxes else np.zeros((0, 4)),
            np.concatenate(scores) if scores else np.zeros(0))


@dataclass
class BenchmarkMatch:
    """The detections of one detector matched to the ground truth under the benchmark's
    rules, once: what :func:`evaluate_benchmark` scores and the bootstrap reweights.

    Images are every frame 1..nFrame of every camera, cameras ascending (dbInfo's setIds,
    as loadGt/loadDt build their cell arrays).

    Attributes:
        cameras: the camera ids, ascending.
        n_frames: camera -> its number of frames (images).
        image_camera: ``(I,)`` the camera of each image.
        gt_image: ``(G,)`` the image of each ground truth.
        dt_image, dt_score: ``(D,)`` the image and score of each detection.
        dt_match: ``(D,)`` :func:`~.functional.match_batch`'s flags (1 true positive, 0 false
            positive, -2 not taking part: under the height limit).
        dt_kept: ``(D,)`` bool, the detections taking part.
    """
    cameras: List[int]
    n_frames: Dict[int, int]
    image_camera: np.ndarray
    gt_image: np.ndarray
    dt_image: np.ndarray
    dt_score: np.ndarray
    dt_match: np.ndarray
    dt_kept: np.ndarray


def match_benchmark(gt: Sequence[CameraBoxes], dt: Sequence[CameraBoxes]) -> BenchmarkMatch:
    """dbEval's matching (:data:`~.protocols.HDA_BENCHMARK`): every box resized to aspect
    0.41 about its centre, detections under 40 px not taking part, IoU 0.5, highest scores
    first, each person matched once.

    Args:
        gt, dt: per camera (the same cameras, any order), from :func:`load_benchmark_gt`
            and :func:`load_benchmark_dt` or built from a model's predictions.
    """
    cams = sorted(c.camera for c in gt)
    if sorted(c.camera for c in dt) != cams:
        raise ValueError(f'evaluate_benchmark: ground truth for cameras {cams}, detections '
                         f'for {sorted(c.camera for c in dt)}: one of each per camera.')
    n_frames = {c.camera: c.n_frames for c in gt}
    for c in dt:
        if c.n_frames != n_frames[c.camera]:
            raise ValueError(f'{camera_name(c.camera)}: detections over {c.n_frames} frames, '
                             f'ground truth over {n_frames[c.camera]}.')
    cam_index = {c: i for i, c in enumerate(cams)}
    img_base = np.concatenate([[0], np.cumsum([n_frames[c] for c in cams])]).astype(np.int64)
    img_cam = np.repeat(np.array(cams, dtype=np.int64), [n_frames[c] for c in cams])
    g_img, g_boxes, _ = _flatten(sorted(gt, key=lambda c: c.camera), cam_index, img_base)
    d_img, d_boxes, d_scores = _flatten(sorted(dt, key=lambda c: c.camera), cam_index,
                                        img_base)
    aspect = HDA_BENCHMARK['aspect_ratio']
    g_boxes = resize_xywh_to_aspect(g_boxes, aspect)
    d_boxes = resize_xywh_to_aspect(d_boxes, aspect)
    # evalAlgs: dt kept when hr(1) <= h < hr(2), hr = [50 inf] .* [1/1.25 1.25]
    keep = (d_boxes[:, 3] >= HDA_BENCHMARK['min_det_height']) & (d_boxes[:, 3] < np.inf)
    g_xyxy = xywh_to_xyxy(g_boxes)
    dt_match, _ = match_batch(xywh_to_xyxy(d_boxes), d_scores, d_img, g_xyxy, g_xyxy, g_img,
                              keep[None], np.ones((1, len(g_img)), bool),
                              HDA_BENCHMARK['iou_thr'])
    return BenchmarkMatch(cams, n_frames, img_cam, g_img, d_img, d_scores, dt_match[0], keep)


def evaluate_benchmark(gt: Sequence[CameraBoxes], dt: Sequence[CameraBoxes],
                       pool: Optional[Sequence[int]] = None, keep_curves: bool = False,
                       matched: Optional[BenchmarkMatch] = None
                       ) -> 'OrderedDict[str, MissRateSummary]':
    """dbEval's figure for the pool of cameras and for each camera alone.

    Args:
        gt, dt: per camera (the same cameras, any order), from :func:`load_benchmark_gt`
            and :func:`load_benchmark_dt` or built from a model's predictions.
        pool: the cameras pooled into ``'pool'``; defaults to all given except 02
            (``dbInfo('hdawithout2a')``).
        keep_curves: also return each curve (``summary.curve``).
        matched: :func:`match_benchmark` of ``gt`` and ``dt`` when done already (the
            bootstrap reuses it); computed here otherwise.

    Returns:
        ``'pool'``, then ``'camNN'`` in camera order -> :class:`~.functional.MissRateSummary`
        with ``num_dt`` (detections >= 40 px) and ``cameras``.
    """
    m = matched if matched is not None else match_benchmark(gt, dt)
    cams, n_frames, img_cam = m.cameras, m.n_frames, m.image_camera
    cam_index = {c: i for i, c in enumerate(cams)}
    d_img, g_img, d_scores, dt_match, keep = (m.dt_image, m.gt_image, m.dt_score, m.dt_match,
                                              m.dt_kept)
    if pool is None:
        pool = [c for c in cams if c not in HDA_BENCHMARK['excluded_cameras']]
    pool = sorted(camera_id(c) for c in pool)
    missing = [c for c in pool if c not in cam_index]
    if missing:
        raise ValueError(f'evaluate_benchmark: pool cameras {missing} have no data.')
    order = np.argsort(-d_scores, kind='stable')  # compRoc's order over all images
    d_code, g_code = cam_index_of(img_cam[d_img], cams), cam_index_of(img_cam[g_img], cams)
    n_gt_cam = np.bincount(g_code, minlength=len(cams))
    n_dt_cam = np.bincount(d_code[keep], minlength=len(cams))
    in_pool = np.isin(d_code, [cam_index[c] for c in pool])
    curves = [roc_curve(d_scores[order], np.where(in_pool, dt_match, -2)[order],
                        int(sum(n_gt_cam[cam_index[c]] for c in pool)),
                        int(sum(n_frames[c] for c in pool)))]
    curves += per_group_roc_curves(d_scores, dt_match, d_code, n_gt_cam.tolist(),
                                   [n_frames[c] for c in cams], order)
    out = OrderedDict()
    for name, members, curve in zip(['pool'] + [camera_name(c) for c in cams],
                                    [pool] + [[c] for c in cams], curves):
        mr2, samples = log_average_miss_rate(curve.fppi, curve.miss_rate, REF_FPPI,
                                             HDA_BENCHMARK['miss_rate_floor'])
        warn = zero_miss_rate_warning(
            samples, REF_FPPI, f'protocol hda-benchmark, {name}',
            'dbEval.m takes exp(mean(log(.))) without a floor, so MR-2 is exactly 0 here: '
            'the benchmark\'s own figure, which says little about the other points')
        if warn:
            print_log(warn, logger='current', level=logging.WARNING)
        out[name] = MissRateSummary(
            group=name, num_images=int(sum(n_frames[c] for c in members)),
            num_gt=int(sum(n_gt_cam[cam_index[c]] for c in members)), mr2=mr2,
            ref_miss_rate=samples, num_dt=int(sum(n_dt_cam[cam_index[c]] for c in members)),
            cameras=tuple(members), curve=curve if keep_curves else None)
    return out


def benchmark_cameras(root: str) -> Tuple[List[int], List[int]]:
    """``(pool, left out)``: the release's cameras with an annotation file, but 02 (dbEval's
    ``hdawithout2a``), and those left out."""
    cams = annotated_cameras(root)
    if not cams:
        raise FileNotFoundError(f'No camNN.txt of an HDA camera in {root}/{HDA_LAYOUT["ann"]}: '
                                'is it an HDA release root (HDA_ROOT)?')
    excluded = HDA_BENCHMARK['excluded_cameras']
    return [c for c in cams if c not in excluded], [c for c in cams if c in excluded]


@dataclass
class DetectorScores:
    """Detector folders of one release scored by :func:`score_detectors`.

    Attributes:
        results: detector -> :func:`evaluate_benchmark`'s results (``'pool'``, ``'camNN'``).
        pool: the cameras pooled.
        left: the release's cameras left out of the pool (02 by default).
        notes: what was not scored (:func:`benchmark_notes`).
        bootstrap: the :class:`~.bootstrap.BootstrapResult`, None without settings.
    """
    results: 'OrderedDict[str, OrderedDict]'
    pool: List[int]
    left: List[int]
    notes: List[str]
    bootstrap: Optional[object] = None


def score_detectors(root: str, detectors: Sequence[str], cameras: Optional[Sequence] = None,
                    gt: str = HDA_BENCHMARK['gt'], keep_curves: bool = False,
                    bootstrap=None, progress: bool = True) -> DetectorScores:
    """``hda_detections/<detector>/`` folders of the release ``root`` scored as dbEval.m
    scores them, each matched once, and with ``bootstrap`` (a
    :class:`~.bootstrap.BootstrapSettings`) every detector on the same resamples.

    Args:
        root: the release root (``hda_annotations/``, ``hda_detections/``).
        detectors: folder names; the first is the reference of paired differences.
        cameras: the cameras to pool; default :func:`benchmark_cameras`.
        gt: the ground-truth folder (``GtAnnotationsAll``).
        keep_curves: keep each curve (plots).
        bootstrap: settings of the intervals; None for none.
        progress: a progress bar per detector.
    """
    from .bootstrap import bootstrap_benchmark, match_benchmark_detections
    if cameras:
        cams, left = sorted({camera_id(c) for c in cameras}), []
    else:
        cams, left = benchmark_cameras(root)

    def bar(items, desc):
        if not progress:
            return items
        from tqdm import tqdm
        return tqdm(items, desc=desc, unit='camera')
    gts = [load_benchmark_gt(root, cam, gt) for cam in bar(cams, 'ground truth')]
    n_frames = {g.camera: g.n_frames for g in gts}
    results, dts, matched, images = OrderedDict(), OrderedDict(), OrderedDict(), None
    for det in detectors:
        dts[det] = [load_benchmark_dt(root, det, cam, n_frames[cam]) for cam in bar(cams, det)]
        match = match_benchmark(gts, dts[det])  # once, for the figure and the bootstrap
        results[det] = evaluate_benchmark(gts, dts[det], pool=cams, keep_curves=keep_curves,
                                          matched=match)
        if bootstrap is not None:
            images, matched[det] = match_benchmark_detections(gts, dts[det], match)
    boot = None
    if bootstrap is not None:
        boot = bootstrap_benchmark(images, matched, pool=cams, settings=bootstrap)
        for det in detectors:  # the reweighting with every weight 1 is the figure itself
            for group, iv in boot.detectors[det].intervals.items():
                want = results[det][group].mr2
                if not (iv.estimate == want or (iv.estimate != iv.estimate and want != want)):
                    raise RuntimeError(
                        f'{det} {group}: the bootstrap\'s MR-2 with every weight 1 is '
                        f'{iv.estimate!r}, evaluate_benchmark\'s {want!r}: '
                        'hda_plugin/evaluation/bootstrap.py and dbeval.py disagree.')
    return DetectorScores(results, cams, left, benchmark_notes(gts, dts), boot)


def evaluate_predictions(root: str, results: Sequence[BenchmarkFrame],
                         gt: str = HDA_BENCHMARK['gt'],
                         pool_exclude: Sequence[int] = HDA_BENCHMARK['excluded_cameras']):
    """:func:`evaluate_benchmark` of a model's predictions on a release's frames.

    Args:
        root: the release root (frame counts, ground truth).
        results: a :class:`BenchmarkFrame` per frame.
        gt: ground-truth folder under ``hda_detections``.
        pool_exclude: cameras left out of the pool (dbEval: 02).

    Returns:
        ``(results of evaluate_benchmark, pool cameras, notes)``; the notes say what was
        not scored and where the ground truth came from (:func:`benchmark_notes`, then the
        test set's frames).
    """
    by_cam = {}
    for r in results:
        by_cam.setdefault(int(r.camera), []).append((int(r.frame), r.boxes, r.scores))
    gts, dts, frame_notes = [], [], []
    for cam in sorted(by_cam):
        g = load_benchmark_gt(root, cam, gt)
        n_frames = g.n_frames
        items = sorted(by_cam[cam], key=lambda x: x[0])
        past = [f for f, _, _ in items if not 1 <= f <= n_frames]
        if past:  # e.g. a _rev1 file longer than camNN.txt: dbEval never reads them
            frame_notes.append(f'{camera_name(cam)}: {len(past)} test frames outside 1..{n_frames} '
                               '(nFrame of camNN.txt), not scored, as dbEval')
            items = [x for x in items if 1 <= x[0] <= n_frames]
        frames = np.array([f for f, _, _ in items], dtype=np.int64)
        seen = len(set(frames.tolist()))
        if seen < n_frames:
            frame_notes.append(f'{camera_name(cam)}: {n_frames - seen} of {n_frames} frames not in '
                               'the test set, scored as frames without detections (dbEval '
                               'scores every frame 1..nFrame)')
        gts.append(g)
        boxes = [np.asarray(b, dtype=np.float64).reshape(-1, 4) for _, b, _ in items]
        scores = [np.asarray(x, dtype=np.float64).reshape(-1) for _, _, x in items]
        dts.append(CameraBoxes(
            cam, n_frames, np.repeat(frames, [len(x) for x in scores]).astype(np.int64),
            np.concatenate(boxes) if boxes else np.zeros((0, 4)),
            np.concatenate(scores) if scores else np.zeros(0), source='model'))
    notes = benchmark_notes(gts) + frame_notes
    pool = [c for c in sorted(by_cam) if c not in pool_exclude]
    if not pool:
        pool = sorted(by_cam)
        notes.append(f'no camera but {list(pool_exclude)}: the pool holds them')
    return evaluate_benchmark(gts, dts, pool=pool), pool, notes


def benchmark_table(results: 'OrderedDict[str, MissRateSummary]', title: str) -> List[str]:
    """Lines of a per-camera table of :func:`evaluate_benchmark` results."""
    return [title] + format_table(
        ('cameras', 'frames', 'persons', 'dets>=40px', 'MR-2', 'MR@0.1'),
        [(name, r.num_images, r.num_gt, r.num_dt, f'{r.mr2:.1%}',
          f'{r.miss_rate_at_fppi_0_1:.1%}') for name, r in results.items()])
