"""Bootstrap intervals and paired comparisons of the HDA benchmark's MR-2 (protocol
``hda-benchmark``), on detections matched once.

The resampling unit is a block of ``block_frames`` contiguous frames of one camera, drawn
with replacement within its camera, each camera keeping its number of blocks (a
stratified, non-overlapping block bootstrap): the benchmark's figure is a pool of fixed,
named cameras, and frames of a video are strongly correlated, so single frames are not
independent draws (docs/evaluation.md, "Intervals and paired comparisons").

A resample is a vector of integer weights, one per image (how many times its block was
drawn). Its MR-2 is computed by reweighting the matched detections: weighted cumulative
true and false positives along compRoc's order, a weighted number of persons and of
images; the matching itself is never redone. With every weight 1 this is exactly
:func:`~.dbeval.evaluate_benchmark`'s figure (tests/test_evaluation/test_bootstrap.py).
Every detector is scored on the *same* resamples, so differences between detectors are
paired. Intervals are percentile intervals (numpy's linear interpolation of the sorted
resampled values).
"""
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from ..fileio.hda_layout import camera_id, camera_name
from .dbeval import BenchmarkMatch, match_benchmark
from .functional import REF_FPPI
from .protocols import HDA_BENCHMARK

__all__ = ['BenchmarkImages', 'MatchedDetections', 'BootstrapSettings', 'GroupInterval',
           'PairedComparison', 'DetectorBootstrap', 'BootstrapResult', 'benchmark_images',
           'match_benchmark_detections', 'block_weights', 'weighted_mr2',
           'bootstrap_benchmark', 'bootstrap_metrics', 'percentile_interval', 'ci_key',
           'RESAMPLING_UNIT']

#: What is drawn with replacement (said in every output).
RESAMPLING_UNIT = 'blocks of contiguous frames within each camera (stratified)'


@dataclass
class BenchmarkImages:
    """The images of an evaluation, in :func:`~.dbeval.evaluate_benchmark`'s order (cameras
    ascending, frames 1..nFrame): the camera and frame of each and its regular ground
    truths. The same for every detector scored on it."""
    camera: np.ndarray  # (I,) int64 camera id
    frame: np.ndarray  # (I,) int64, 1-based
    num_gt: np.ndarray  # (I,) int64

    def __post_init__(self):
        self.camera = np.asarray(self.camera, dtype=np.int64).reshape(-1)
        self.frame = np.asarray(self.frame, dtype=np.int64).reshape(-1)
        self.num_gt = np.asarray(self.num_gt, dtype=np.int64).reshape(-1)
        if not len(self.camera) == len(self.frame) == len(self.num_gt):
            raise ValueError(f'BenchmarkImages: {len(self.camera)} cameras, {len(self.frame)} '
                             f'frames and {len(self.num_gt)} ground-truth counts: one each '
                             'per image.')
        if len(self.camera) and np.any(np.diff(self.camera) < 0):
            raise ValueError('BenchmarkImages: images must be grouped by camera, cameras '
                             'ascending (evaluate_benchmark\'s order).')

    @property
    def cameras(self) -> List[int]:
        return sorted(set(self.camera.tolist()))


@dataclass
class MatchedDetections:
    """One detector's detections on :class:`BenchmarkImages`, matched once: ``score``,
    ``match`` (:func:`~.functional.match_batch`'s flags: 1 true positive, 0 false
    positive, -1 ignore region, -2 not taking part) and ``image`` (index into the
    images)."""
    score: np.ndarray
    match: np.ndarray
    image: np.ndarray

    def __post_init__(self):
        self.score = np.asarray(self.score, dtype=np.float64).reshape(-1)
        self.match = np.asarray(self.match, dtype=np.int8).reshape(-1)
        self.image = np.asarray(self.image, dtype=np.int64).reshape(-1)
        if not len(self.score) == len(self.match) == len(self.image):
            raise ValueError(f'MatchedDetections: {len(self.score)} scores, '
                             f'{len(self.match)} match flags, {len(self.image)} image '
                             'indices: one each per detection.')


@dataclass
class BootstrapSettings:
    """How the resamples were drawn (written with every result)."""
    resamples: int = 1000
    ci: float = 0.95
    seed: int = 0
    block_frames: int = 50  # 10 s of video at the release's 5 fps
    unit: str = RESAMPLING_UNIT
    interval: str = 'percentile (numpy linear interpolation)'

    def __post_init__(self):
        if int(self.resamples) < 1:
            raise ValueError(f'bootstrap: {self.resamples} resamples; give 1 or more '
                             '(1000 or more for a 95 % interval).')
        if not 0 < float(self.ci) < 1:
            raise ValueError(f'bootstrap: interval level {self.ci} is not in (0, 1); e.g. '
                             '0.95.')
        if int(self.block_frames) < 1:
            raise ValueError(f'bootstrap: block of {self.block_frames} frames; give 1 or '
                             'more.')


@dataclass
class GroupInterval:
    """MR-2 of one group (``'pool'`` or ``'camNN'``): the estimate on the data, the
    percentile interval over resamples, and how many resamples had no MR-2 (no person
    in the group but detections: the benchmark's figure is then NaN), left out of the
    interval."""
    group: str
    estimate: float
    ci: Tuple[float, float]
    undefined: int = 0


@dataclass
class PairedComparison:
    """A detector against the first one on one group, on the same resamples: the
    interval of (its MR-2 minus the first's) and the share of resamples in which its
    MR-2 is lower (it beats the first)."""
    group: str
    diff: float
    diff_ci: Tuple[float, float]
    beats_first: float


@dataclass
class DetectorBootstrap:
    """One detector's intervals (group -> :class:`GroupInterval`), its comparisons with
    the first detector (None for the first), and the resampled MR-2s (groups x
    resamples)."""
    name: str
    intervals: 'OrderedDict[str, GroupInterval]'
    vs_first: Optional['OrderedDict[str, PairedComparison]']
    samples: np.ndarray


@dataclass
class BootstrapResult:
    """Every detector on the same resamples; ``groups`` as
    :func:`~.dbeval.evaluate_benchmark` names them (``'pool'``, then ``'camNN'``)."""
    settings: BootstrapSettings
    groups: List[str]
    pool: Tuple[int, ...]
    detectors: 'OrderedDict[str, DetectorBootstrap]' = field(default_factory=OrderedDict)


def ci_key(ci: float) -> str:
    """``'ci95'`` for 0.95, ``'ci97.5'`` for 0.975: the name of an interval's key."""
    return f'ci{float(ci) * 100:g}'


def benchmark_images(gt) -> BenchmarkImages:
    """The images of :func:`~.dbeval.evaluate_benchmark` for ground truth ``gt`` (a
    :class:`~.dbeval.CameraBoxes` per camera): every frame 1..nFrame of every camera,
    cameras ascending, with its number of ground truths (all regular in this protocol)."""
    gt = sorted(gt, key=lambda c: c.camera)
    cams = np.repeat([c.camera for c in gt], [c.n_frames for c in gt]).astype(np.int64)
    frames = np.concatenate([np.arange(1, c.n_frames + 1) for c in gt]) if gt else \
        np.zeros(0, np.int64)
    num_gt = np.concatenate([np.bincount(c.frame - 1, minlength=c.n_frames)[:c.n_frames]
                             for c in gt]) if gt else np.zeros(0, np.int64)
    return BenchmarkImages(cams, frames, num_gt)


def match_benchmark_detections(gt, dt, matched: Optional[BenchmarkMatch] = None
                               ) -> Tuple[BenchmarkImages, MatchedDetections]:
    """The images and one detector's detections as :func:`~.dbeval.match_benchmark`
    matches them (done once; pass ``matched`` when :func:`~.dbeval.evaluate_benchmark`
    has it already).

    Args:
        gt, dt: :class:`~.dbeval.CameraBoxes` per camera, the same cameras and frame counts
            (as :func:`~.dbeval.load_benchmark_gt` / :func:`~.dbeval.load_benchmark_dt`
            give them).
        matched: their :class:`~.dbeval.BenchmarkMatch`, if computed already.

    Returns:
        ``(images, matched detections)``; :func:`weighted_mr2` with every weight 1 gives
        evaluate_benchmark's MR-2s exactly.
    """
    m = matched if matched is not None else match_benchmark(gt, dt)
    return benchmark_images(gt), MatchedDetections(m.dt_score, m.dt_match, m.dt_image)


def block_weights(images: BenchmarkImages, resamples: int, block_frames: int,
                  rng: np.random.Generator) -> List[Tuple[np.ndarray, np.ndarray]]:
    """The resamples' draws, per camera: ``(block of each of its images, (resamples,
    blocks) counts)``. Each camera's frames are cut into blocks of ``block_frames``
    contiguous frames (the last one shorter), and each resample draws as many blocks as
    the camera has, with replacement (multinomial counts). Drawn for every resample at
    once, so the result does not depend on how the work is chunked later."""
    out = []
    for cam in images.cameras:
        sel = np.flatnonzero(images.camera == cam)
        block = (np.arange(len(sel)) // int(block_frames)).astype(np.int64)
        n_blocks = int(block[-1]) + 1
        counts = rng.multinomial(n_blocks, np.full(n_blocks, 1.0 / n_blocks),
                                 size=int(resamples)).astype(np.int32)
        out.append((block, counts))
    return out


def _weights_chunk(draws, lo: int, hi: int) -> np.ndarray:
    """Image weights ``(hi - lo, images)`` of resamples ``lo..hi-1``."""
    return np.concatenate([counts[lo:hi][:, block] for block, counts in draws], axis=1)


class _GroupCurve:
    """One group's detections taking part, in compRoc's order, and what the reweighting
    needs of its images."""

    def __init__(self, images: BenchmarkImages, dets: MatchedDetections,
                 members: Sequence[int], order: np.ndarray, ref: np.ndarray):
        in_group = np.isin(images.camera, np.asarray(members, dtype=np.int64))
        self.images = np.flatnonzero(in_group)
        self.num_gt = images.num_gt[self.images]
        sel = order[(dets.match[order] >= 0) & in_group[dets.image[order]]]
        self.det_image = dets.image[sel]
        self.tp = dets.match[sel] == 1
        # images with a detection taking part: a resample drawing none of them has an
        # empty curve (MR-2 1 whatever its persons, as log_average_miss_rate)
        self.dets_per_image = np.bincount(self.det_image, minlength=len(images.camera))[
            self.images]
        # the curve beyond the largest reference FPPI never matters: start with the
        # detections up to twice that many false positives, more where a resample needs it
        fp = np.cumsum(~self.tp)
        need = 2.0 * ref.max() * max(len(self.images), 1) + 64
        self.first_cut = int(min(np.searchsorted(fp, need, side='right') + 1, len(sel)))


def _group_mr2(g: _GroupCurve, w: np.ndarray, ref: np.ndarray, floor: float) -> np.ndarray:
    """MR-2 of a group under image weights ``w`` (resamples x all images)."""
    wg = w[:, g.images].astype(np.int64)
    n_img = wg.sum(axis=1)
    n_gt = wg @ g.num_gt
    has_det = (wg @ g.dets_per_image) > 0
    n = len(g.tp)
    cut = g.first_cut
    while True:
        wd = w[:, g.det_image[:cut]].astype(np.int64)
        tp_c = np.cumsum(wd * g.tp[:cut], axis=1)
        fp_c = np.cumsum(wd, axis=1) - tp_c
        fppi = fp_c / np.maximum(n_img, 1)[:, None]  # as compRoc: fp / max(images, 1)
        if cut >= n or np.all(fppi[:, -1] > ref.max()):
            break  # every resample's curve has passed the last reference point
        cut = min(2 * cut, n)
    # the last point at or under each reference FPPI (fppi is monotone along a row)
    k = np.stack([np.searchsorted(row, ref, side='right') for row in fppi]) if cut else \
        np.zeros((len(w), len(ref)), np.int64)
    tp = np.take_along_axis(tp_c, np.maximum(k - 1, 0), axis=1) if cut else k
    with np.errstate(divide='ignore', invalid='ignore'):
        # as compRoc: 1 - recall, recall = tp / n_gt; 1 before the first point
        samples = np.where(k > 0, 1 - tp / n_gt[:, None], 1.0)
        mr2 = np.exp(np.mean(np.log(np.maximum(samples, floor)), axis=1))
    mr2[~has_det] = 1.0
    return mr2


def _groups(images: BenchmarkImages, pool: Sequence[int], per_camera: bool = True
            ) -> 'OrderedDict[str, List[int]]':
    groups = OrderedDict(pool=sorted(camera_id(c) for c in pool))
    if per_camera:
        groups.update((camera_name(c), [c]) for c in images.cameras)
    missing = [c for c in groups['pool'] if c not in images.cameras]
    if missing:
        raise ValueError(f'bootstrap: pool cameras {missing} have no images.')
    return groups


def weighted_mr2(images: BenchmarkImages, dets: MatchedDetections, weights: np.ndarray,
                 pool: Optional[Sequence[int]] = None, ref: Optional[np.ndarray] = None,
                 floor: float = HDA_BENCHMARK['miss_rate_floor']
                 ) -> 'OrderedDict[str, np.ndarray]':
    """MR-2 of the pool and of each camera under image weights.

    Args:
        images, dets: from :func:`match_benchmark_detections` (or built on arrays).
        weights: ``(R, images)`` non-negative integers (an image of weight k counts k
            times: its persons, its false and true positives, the image itself), or
            ``(images,)``.
        pool: cameras of ``'pool'``; default all but the protocol's excluded ones (02).
        ref: FPPI samples (default :data:`~.functional.REF_FPPI`).
        floor: the protocol's miss-rate floor (hda-benchmark: 0).

    Returns:
        ``'pool'``, ``'camNN'`` -> ``(R,)`` MR-2s (a float array of one for 1-D weights).
    """
    w = np.atleast_2d(np.asarray(weights))
    if w.shape[1] != len(images.camera):
        raise ValueError(f'weighted_mr2: weights for {w.shape[1]} images, the evaluation has '
                         f'{len(images.camera)}.')
    if pool is None:
        pool = [c for c in images.cameras if c not in HDA_BENCHMARK['excluded_cameras']]
    ref = REF_FPPI if ref is None else np.asarray(ref, dtype=np.float64)
    order = np.argsort(-dets.score, kind='stable')  # compRoc's order over all images
    return OrderedDict((name, _group_mr2(_GroupCurve(images, dets, members, order, ref), w,
                                         ref, floor))
                       for name, members in _groups(images, pool).items())


def percentile_interval(values: np.ndarray, ci: float) -> Tuple[float, float]:
    """The ``ci`` percentile interval of the finite ``values`` (NaN, NaN if none)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if not len(v):
        return float('nan'), float('nan')
    lo, hi = np.quantile(v, [(1 - ci) / 2, (1 + ci) / 2])
    return float(lo), float(hi)


def bootstrap_benchmark(images: BenchmarkImages, detectors: Mapping[str, MatchedDetections],
                        pool: Optional[Sequence[int]] = None,
                        settings: Optional[BootstrapSettings] = None,
                        per_camera: bool = True, max_cells: int = 4_000_000
                        ) -> BootstrapResult:
    """Percentile intervals of every detector's MR-2 (pool and each camera) and paired
    comparisons with the first detector, on the same block-bootstrap resamples.

    Args:
        images: the evaluation's images (the same for every detector).
        detectors: name -> :class:`MatchedDetections`, the first the reference of the
            comparisons.
        pool: cameras of ``'pool'`` (default: all but 02).
        settings: resamples, interval level, seed, block length.
        per_camera: also each camera alone (from the same resamples); False: the pool
            only (half the work).
        max_cells: resamples x detections handled at a time (memory bound: about 40
            bytes each).

    Returns:
        :class:`BootstrapResult`. The estimate of each group is its MR-2 with every weight
        1 (evaluate_benchmark's figure); a detector identical to the first has a
        difference of exactly 0 in every resample.
    """
    s = settings or BootstrapSettings()
    if not detectors:
        raise ValueError('bootstrap_benchmark: no detector given.')
    if pool is None:
        pool = [c for c in images.cameras if c not in HDA_BENCHMARK['excluded_cameras']]
    groups = _groups(images, pool, per_camera)
    draws = block_weights(images, s.resamples, s.block_frames,
                          np.random.default_rng(s.seed))
    ref = REF_FPPI
    floor = HDA_BENCHMARK['miss_rate_floor']
    ones = np.ones((1, len(images.camera)), np.int32)
    curves, samples, estimates = {}, {}, {}
    for name, dets in detectors.items():
        if len(dets.image) and (dets.image.min() < 0 or dets.image.max() >= len(ones[0])):
            raise ValueError(f'bootstrap_benchmark: {name}: image indices outside 0..'
                             f'{len(ones[0]) - 1}.')
        order = np.argsort(-dets.score, kind='stable')
        curves[name] = [_GroupCurve(images, dets, m, order, ref) for m in groups.values()]
        estimates[name] = [float(_group_mr2(g, ones, ref, floor)[0]) for g in curves[name]]
        samples[name] = np.empty((len(groups), s.resamples))
    widest = max(max(g.first_cut for g in cs) for cs in curves.values())
    step = max(1, int(max_cells) // max(widest, 1))
    for lo in range(0, s.resamples, step):
        hi = min(lo + step, s.resamples)
        w = _weights_chunk(draws, lo, hi)
        for name in detectors:
            for k, g in enumerate(curves[name]):
                samples[name][k, lo:hi] = _group_mr2(g, w, ref, floor)
    out = BootstrapResult(s, list(groups), tuple(groups['pool']))
    first = next(iter(detectors))
    for name in detectors:
        x = samples[name]
        intervals = OrderedDict(
            (gname, GroupInterval(gname, estimates[name][k], percentile_interval(x[k], s.ci),
                                  int((~np.isfinite(x[k])).sum())))
            for k, gname in enumerate(groups))
        vs = None
        if name != first:
            vs = OrderedDict()
            for k, gname in enumerate(groups):
                d = x[k] - samples[first][k]
                ok = np.isfinite(d)
                vs[gname] = PairedComparison(
                    gname, estimates[name][k] - estimates[first][k],
                    percentile_interval(d, s.ci),
                    float((x[k][ok] < samples[first][k][ok]).mean()) if ok.any()
                    else float('nan'))
        out.detectors[name] = DetectorBootstrap(name, intervals, vs, x)
    return out


def bootstrap_metrics(result: BootstrapResult, name: str) -> Dict[str, object]:
    """The keys of one detector's bootstrap in ``hda_benchmark.py --json``:
    ``MR-2_ci95`` and ``MR-2_ci95_camNN`` (``[lo, hi]``), and for a detector after the
    first ``diff_ci95``, ``beats_first`` (and ``..._camNN``)."""
    key = ci_key(result.settings.ci)
    d = result.detectors[name]
    out = OrderedDict()
    for g, iv in d.intervals.items():
        out[f'MR-2_{key}' + ('' if g == 'pool' else f'_{g}')] = list(iv.ci)
    for g, c in (d.vs_first or {}).items():
        tail = '' if g == 'pool' else f'_{g}'
        out[f'diff_{key}{tail}'] = list(c.diff_ci)
        out[f'beats_first{tail}'] = c.beats_first
    return out

