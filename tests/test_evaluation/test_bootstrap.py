"""hda_plugin/evaluation/bootstrap.py: the reweighted MR-2 is evaluate_benchmark's figure
(weights 1) and the figure of the literally resampled data (other weights); paired
comparisons; the 95 % interval's coverage on a generative model with a known MR-2."""
import numpy as np
import pytest

from hda_plugin.evaluation.bootstrap import (
    BenchmarkImages,
    BootstrapSettings,
    MatchedDetections,
    block_weights,
    bootstrap_benchmark,
    bootstrap_metrics,
    match_benchmark_detections,
    percentile_interval,
    weighted_mr2,
)
from hda_plugin.evaluation.dbeval import CameraBoxes, evaluate_benchmark
from hda_plugin.evaluation.functional import REF_FPPI


def _camera(rng, cam, n_frames, jitter=0.1, n_fp=5, persons=4, detect=True):
    """Ground truth and detections of one camera: jittered copies of the persons and random
    boxes, scores continuous (no ties) so that resampled copies keep one order."""
    gf, gb, df, db, ds = [], [], [], [], []
    for f in range(1, n_frames + 1):
        for _ in range(int(rng.integers(0, persons))):
            h = rng.uniform(30, 200)
            w = h * rng.uniform(.3, .6)
            x, y = rng.uniform(0, 600, 2)
            gf.append(f)
            gb.append([x, y, w, h])
            for _ in range(int(rng.integers(0, 3)) if detect else 0):
                j = rng.normal(0, jitter, 4) * [w, h, w, h]
                df.append(f)
                db.append([x + j[0], y + j[1], max(w + j[2], 1), max(h + j[3], 1)])
                ds.append(rng.uniform(.3, 1))
        for _ in range(int(rng.integers(0, n_fp)) if detect else 0):
            h = rng.uniform(20, 150)
            df.append(f)
            db.append([*rng.uniform(0, 600, 2), .41 * h, h])
            ds.append(rng.uniform(0, .7))
    return (CameraBoxes(cam, n_frames, np.array(gf, np.int64), np.array(gb).reshape(-1, 4),
                        np.zeros(len(gf))),
            CameraBoxes(cam, n_frames, np.array(df, np.int64), np.array(db).reshape(-1, 4),
                        np.array(ds)))


def _release(seed, cams=(2, 17, 60), frames=(30, 40, 25), **kw):
    rng = np.random.default_rng(seed)
    pairs = [_camera(rng, c, n, **kw) for c, n in zip(cams, frames)]
    return [g for g, _ in pairs], [d for _, d in pairs]


def _same(a, b):
    return a == b or (np.isnan(a) and np.isnan(b))


@pytest.mark.parametrize('seed', range(6))
def test_weights_one_is_evaluate_benchmark_exactly(seed):
    gt, dt = _release(seed)
    if seed == 4:  # a camera the detector found nothing on, one without persons
        dt[2] = CameraBoxes(60, 25, np.zeros(0, np.int64), np.zeros((0, 4)), np.zeros(0))
        gt[0] = CameraBoxes(2, 30, np.zeros(0, np.int64), np.zeros((0, 4)), np.zeros(0))
    want = evaluate_benchmark(gt, dt)
    images, dets = match_benchmark_detections(gt, dt)
    got = weighted_mr2(images, dets, np.ones(len(images.camera), np.int64))
    assert list(got) == list(want) == ['pool', 'cam02', 'cam17', 'cam60']
    for k in want:
        assert _same(float(got[k][0]), want[k].mr2), k  # bit for bit
    if seed == 4:
        assert got['cam60'][0] == 1.0 and np.isnan(got['cam02'][0])
    # the pool leaves 02 out: its weight changes nothing there
    w = np.ones((1, len(images.camera)), np.int64)
    w[0, images.camera == 2] = 3
    assert weighted_mr2(images, dets, w)['pool'][0] == want['pool'].mr2


def _literal_resample(per_cam, draws):
    """The resampled data set itself: each camera's drawn blocks, one after another, as
    new frames (what the weights stand for)."""
    out = []
    for cb, (block, counts) in zip(sorted(per_cam, key=lambda c: c.camera), draws):
        frames, boxes, scores, nf = [], [], [], 0
        for b in range(counts.shape[1]):
            sel_frames = np.flatnonzero(block == b) + 1
            rows = np.isin(cb.frame, sel_frames)
            for _ in range(int(counts[0, b])):
                frames.append(cb.frame[rows] - sel_frames[0] + 1 + nf)
                boxes.append(cb.boxes[rows])
                scores.append(cb.scores[rows])
                nf += len(sel_frames)
        order = np.argsort(np.concatenate(frames), kind='stable')
        out.append(CameraBoxes(cb.camera, nf, np.concatenate(frames)[order],
                               np.concatenate(boxes)[order], np.concatenate(scores)[order]))
    return out


@pytest.mark.parametrize('seed', range(4))
def test_weights_are_the_literally_resampled_data(seed):
    gt, dt = _release(10 + seed, frames=(31, 47, 26))
    images, dets = match_benchmark_detections(gt, dt)
    draws = block_weights(images, 1, 5, np.random.default_rng(seed))
    w = np.concatenate([c[0][b] for b, c in draws])[None]
    assert sorted(set(w[0].tolist())) != [1], 'a resample that changes the data'
    want = evaluate_benchmark(_literal_resample(gt, draws), _literal_resample(dt, draws))
    got = weighted_mr2(images, dets, w)
    for k in want:
        assert _same(float(got[k][0]), want[k].mr2), k


def test_identical_copy_differs_by_exactly_zero_and_a_better_one_wins():
    gt, dt = _release(3, frames=(60, 80, 70))
    images, first = match_benchmark_detections(gt, dt)
    # the same detections, true positives scored higher
    better = MatchedDetections(first.score + 0.3 * (first.match == 1), first.match,
                               first.image)
    s = BootstrapSettings(resamples=200, seed=1, block_frames=10)
    res = bootstrap_benchmark(images, {'A': first, 'A copy': first, 'B': better}, settings=s)
    copy = res.detectors['A copy'].vs_first
    for g in res.groups:
        assert copy[g].diff_ci == (0.0, 0.0) and copy[g].beats_first == 0.0
    assert res.detectors['A'].vs_first is None
    b = res.detectors['B'].vs_first['pool']
    assert b.diff < 0 and b.diff_ci[1] < 0 and b.beats_first > 0.95
    keys = bootstrap_metrics(res, 'A copy')
    assert keys['diff_ci95'] == [0.0, 0.0] and keys['beats_first'] == 0.0
    assert set(bootstrap_metrics(res, 'A')) == {'MR-2_ci95', 'MR-2_ci95_cam02',
                                                'MR-2_ci95_cam17', 'MR-2_ci95_cam60'}
    want = evaluate_benchmark(gt, dt)
    for g, iv in res.detectors['A'].intervals.items():
        assert iv.estimate == want[g].mr2 and iv.ci[0] <= iv.estimate <= iv.ci[1]
        assert iv.ci[0] < iv.ci[1] and iv.undefined == 0


def test_chunking_and_seed():
    gt, dt = _release(5, frames=(40, 50, 30))
    images, dets = match_benchmark_detections(gt, dt)
    s = BootstrapSettings(resamples=50, seed=7, block_frames=8)
    a = bootstrap_benchmark(images, {'A': dets}, settings=s).detectors['A'].samples
    b = bootstrap_benchmark(images, {'A': dets}, settings=s, max_cells=1).detectors['A'].samples
    assert np.array_equal(a, b)  # one resample at a time: the same numbers
    c = bootstrap_benchmark(images, {'A': dets}, settings=BootstrapSettings(
        resamples=50, seed=8, block_frames=8)).detectors['A'].samples
    assert not np.array_equal(a, c)
    # the stratified draw: every camera keeps its number of blocks
    for block, counts in block_weights(images, 20, 8, np.random.default_rng(0)):
        assert (counts.sum(axis=1) == block.max() + 1).all()


def test_percentile_interval_and_bad_input():
    v = np.arange(101.0)
    assert percentile_interval(v, 0.9) == pytest.approx((5.0, 95.0), abs=1e-12)
    assert percentile_interval(np.r_[v, np.nan], 0.9) == percentile_interval(v, 0.9)
    assert all(np.isnan(percentile_interval(np.full(3, np.nan), 0.9)))
    with pytest.raises(ValueError, match='not in \\(0, 1\\)'):
        BootstrapSettings(ci=95)
    with pytest.raises(ValueError, match='0 resamples'):
        BootstrapSettings(resamples=0)
    with pytest.raises(ValueError, match='grouped by camera'):
        BenchmarkImages([17, 2], [1, 1], [0, 0])
    images = BenchmarkImages([17, 17], [1, 2], [1, 0])
    dets = MatchedDetections([.5], [1], [0])
    with pytest.raises(ValueError, match='weights for 3 images, the evaluation has 2'):
        weighted_mr2(images, dets, np.ones(3))
    with pytest.raises(ValueError, match='image indices outside 0..1'):
        bootstrap_benchmark(images, {'A': MatchedDetections([.5], [1], [5])}, pool=[17])


# -- coverage ------------------------------------------------------------------------

TP_RATE = 0.35  # true positives' scores ~ Exp(0.35), false positives' ~ Exp(1)


def synthetic_pool(rng, n_cams=3, n_frames=1000, seg_mean=6.0, spread=3.0):
    """Matched detections from a model whose MR-2 is known in closed form, with frames
    correlated as in a video: a camera's frames fall into scenes (geometric lengths, mean
    ``seg_mean`` frames) sharing the number of persons, the detection rate and the false
    positive rate. Each camera c has fixed means (persons mu_c, detection rate p_c, false
    positives lam_c per frame). Over a long video the pool's miss rate at FPPI r is
    ``1 - P (r / L)^a``: ``P = sum(mu p) / sum(mu)``, ``L = mean(lam)``, a = TP_RATE.
    A scene's rates are the camera's times Gamma(``spread``, 1 / ``spread``) (persons,
    false positives) and Beta around p_c of concentration ``spread`` (detection rate)."""
    fixed = np.random.default_rng(12345)  # the cameras: the same in every replicate
    mu, p = fixed.uniform(1, 3, n_cams), fixed.uniform(.5, .9, n_cams)
    lam = fixed.uniform(2, 5, n_cams)
    score, match, image, num_gt = [], [], [], []
    for c in range(n_cams):
        length = rng.geometric(1 / seg_mean, n_frames)
        scene = np.repeat(np.arange(n_frames), length)[:n_frames]
        k = scene[-1] + 1
        p_s = rng.beta(p[c] * spread, (1 - p[c]) * spread, k)
        lam_s = lam[c] * rng.gamma(spread, 1 / spread, k)
        n_gt = rng.poisson(mu[c] * rng.gamma(spread, 1 / spread, k)[scene])
        n_tp, n_fp = rng.binomial(n_gt, p_s[scene]), rng.poisson(lam_s[scene])
        img = c * n_frames + np.arange(n_frames)
        image += [np.repeat(img, n_tp), np.repeat(img, n_fp)]
        match += [np.ones(n_tp.sum(), np.int8), np.zeros(n_fp.sum(), np.int8)]
        score += [rng.exponential(1 / TP_RATE, n_tp.sum()), rng.exponential(1., n_fp.sum())]
        num_gt.append(n_gt)
    image = np.concatenate(image)
    o = np.argsort(image, kind='stable')
    cams = np.arange(n_cams) + 17
    images = BenchmarkImages(np.repeat(cams, n_frames), np.tile(np.arange(1, n_frames + 1),
                                                                   n_cams),
                             np.concatenate(num_gt))
    dets = MatchedDetections(np.concatenate(score)[o], np.concatenate(match)[o], image[o])
    big_p = (mu * p).sum() / mu.sum()
    truth = float(np.exp(np.mean(np.log(1 - big_p * (REF_FPPI / lam.mean()) ** TP_RATE))))
    return images, dets, truth, cams.tolist()


def _coverage(block_frames, replicates, resamples=200):
    hits = 0
    for rep in range(replicates):
        images, dets, truth, cams = synthetic_pool(np.random.default_rng(1000 + rep))
        res = bootstrap_benchmark(images, {'d': dets}, pool=cams, per_camera=False,
                                  settings=BootstrapSettings(resamples, 0.95, rep,
                                                             block_frames))
        lo, hi = res.detectors['d'].intervals['pool'].ci
        hits += lo <= truth <= hi
    return hits / replicates


def test_truth_of_the_generative_model():
    """The closed form is the model's MR-2: a 60,000-frame pool's figure is within
    0.003 of it (the sampling error there is about 0.0015)."""
    images, dets, truth, cams = synthetic_pool(np.random.default_rng(0), n_frames=20000)
    got = weighted_mr2(images, dets, np.ones(len(images.camera), np.int64), pool=cams)
    assert abs(got['pool'][0] - truth) < 0.003


def test_95_percent_interval_covers_the_true_mr2():
    """200 replicate data sets (3 cameras x 1000 frames, scenes of 6 frames on average),
    200 resamples each, blocks of 50 frames (20 per camera): the 95 % interval covers the
    true MR-2 in 95 % +- 4.6 % of them (3 binomial standard deviations of 200 draws at 0.95). Frames
    drawn one by one (block_frames=1) ignore the scenes: the interval is too narrow and
    covers the truth in fewer than 90 % of 60 replicates."""
    blocks = _coverage(50, 200)
    tol = 3 * np.sqrt(.95 * .05 / 200)
    assert abs(blocks - 0.95) <= tol, blocks
    frames = _coverage(1, 60)
    assert frames < 0.9 and frames < blocks - 0.05, (frames, blocks)
