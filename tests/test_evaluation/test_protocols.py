"""The two protocols (CaltechMetric, HDABenchmarkMetric, the MissRateMetric alias): caltech
settings against loops, hand-made setting cases, the hda-benchmark protocol in the metric
equal to the tool on the exported allD.txt."""
import os
import os.path as osp
import sys

import numpy as np
import pytest
import torch

from hda_plugin.evaluation import (
    CALTECH_SETTINGS,
    DOLLAR_SETTINGS,
    CaltechMetric,
    DumpHDADetections,
    HDABenchmarkMetric,
    MissRateMetric,
    match_batch,
    match_image,
)

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
import hda_reference as ref  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(ROOT, 'tools', 'analysis'))
import hda_benchmark as tool  # noqa: E402

INF = float('inf')


def sample(img_id, dets, scores, persons, vis=None, ignores=(), path=None):
    def t(a):
        return torch.tensor(np.asarray(a, dtype=np.float32).reshape(-1, 4))
    s = dict(img_id=img_id, img_path=path or f'hda_frames/{img_id[:5]}/x.jpg',
             pred_instances=dict(bboxes=t(dets), scores=torch.tensor(
                 np.asarray(scores, dtype=np.float32)),
                 labels=torch.zeros(len(scores), dtype=torch.long)),
             gt_instances=dict(bboxes=t(persons),
                               labels=torch.zeros(len(persons), dtype=torch.long)),
             ignored_instances=dict(bboxes=t(ignores),
                                    labels=torch.zeros(len(ignores), dtype=torch.long)))
    if vis is not None:
        s['gt_instances']['visibility'] = torch.tensor(np.asarray(vis, dtype=np.float32))
    return s


def run_metric(metric, samples):
    metric.dataset_meta = dict(classes=('person', ))
    metric.process({}, samples)
    return metric.compute_metrics(metric.results)


# --- hand-made cases --------------------------------------------------------------------

def test_heavily_occluded_person_counts_only_in_occ_heavy_and_all():
    m = CaltechMetric(settings=list(CALTECH_SETTINGS), aspect_ratio=0.41)
    res = run_metric(m, [sample('cam17_00001', [[100, 100, 141, 200]], [.9],
                                [[100, 100, 141, 200]], vis=[0.4])])
    counted = {s for s, g in m.persons.items() if g['all']}
    assert counted == {'Occ=heavy', 'All'}
    # found at FPPI 0: every sample 0, floored at 1e-10 (CALTECH_MISS_RATE_FLOOR)
    assert res['Occ=heavy/MR-2'] == pytest.approx(1e-10) and \
        res['All/MR-2'] == pytest.approx(1e-10)


def test_25px_person_counts_only_in_all_and_scale_far():
    m = CaltechMetric(settings=list(CALTECH_SETTINGS), aspect_ratio=0.41)
    run_metric(m, [sample('cam17_00001', [], [], [[10, 10, 20.25, 35]], vis=[INF])])
    assert {s for s, g in m.persons.items() if g['all']} == {'All', 'Scale=far'}


def test_persons_outside_a_setting_are_ignore_regions_not_misses():
    # a 30 px person detected by a 30 px box: in Reasonable the person is an ignore region
    # and the detection (30 < 40 px) is dropped, so neither a miss nor a false positive
    m = CaltechMetric(settings=['Reasonable', 'All'], aspect_ratio=0.41)
    res = run_metric(m, [
        sample('cam17_00001', [[0, 0, 12.3, 30]], [.8], [[0, 0, 12.3, 30]], vis=[INF]),
        sample('cam17_00002', [[0, 0, 41, 100]], [.9], [[0, 0, 41, 100]], vis=[INF])])
    assert m.persons['Reasonable']['all'] == 1 and m.persons['All']['all'] == 2
    assert res['Reasonable/MR-2'] == pytest.approx(1e-10) and \
        res['All/MR-2'] == pytest.approx(1e-10)


def test_no_argument_metric_is_unchanged_and_named_caltech():
    m = CaltechMetric()
    res = run_metric(m, [sample('cam17_00001', [[0, 0, 10, 20]], [.9], [[0, 0, 10, 20]]),
                         sample('cam60_00001', [[210, 10, 220, 30], [50, 50, 60, 70]],
                                [.9, .8], [[0, 0, 10, 20]], ignores=[[200, 0, 300, 100]])])
    assert res['MR-2'] == pytest.approx(0.5) and res['MR-2_cam17'] == pytest.approx(1e-10)
    assert res['MR-2_cam60'] == 1.0 and 'MR-4' in res
    assert m.prefix == 'caltech'


def test_hda_benchmark_metric_has_no_options_of_the_rules_and_refuses_other_datasets():
    with pytest.raises(TypeError, match='aspect_ratio'):
        HDABenchmarkMetric(aspect_ratio=0.5)
    m = HDABenchmarkMetric(data_root='/nowhere')
    assert m.prefix == 'hda' and m.protocol == 'hda-benchmark'
    with pytest.raises(ValueError, match='not an HDADataset frame'):
        m.process({}, [sample('000123', [], [], [])])
    with pytest.raises(ValueError, match='no data_root given'):
        HDABenchmarkMetric().compute_metrics([])


def test_missrate_metric_alias_builds_the_protocols_class():
    from mmdet.registry import METRICS
    c = MissRateMetric(aspect_ratio=0.41, settings=['Reasonable'], per_camera=False)
    assert type(c) is CaltechMetric and c.aspect_ratio == 0.41 and not c.per_camera
    assert list(c.settings) == ['Reasonable'] and c.prefix == 'caltech'
    h = METRICS.build(dict(type='MissRateMetric', protocol='hda-benchmark', gt='MyGt',
                           pool_exclude=[2, 17], prefix='bench'))
    assert type(h) is HDABenchmarkMetric and h.gt == 'MyGt' and h.pool_exclude == (2, 17)
    assert h.prefix == 'bench'
    assert type(METRICS.build(dict(type='MissRateMetric'))) is CaltechMetric
    # the other protocol's options at their defaults change nothing, as before
    assert type(MissRateMetric(protocol='hda-benchmark', iou_thr=0.5, expand=1.25,
                               settings=None)) is HDABenchmarkMetric
    assert type(MissRateMetric(protocol='caltech', pool_exclude=[2], data_root=None)) is \
        CaltechMetric


def test_missrate_metric_alias_refuses_unknown_protocols_and_options():
    with pytest.raises(ValueError, match=r"protocol='dbeval': expected one of "
                                         r"\['caltech', 'hda-benchmark'\]"):
        MissRateMetric(protocol='dbeval')
    with pytest.raises(ValueError, match=r"HDABenchmarkMetric \(dbEval.m's fixed rules\), "
                                         r"which takes .*\['aspect_ratio', 'iou_thr'\] "
                                         r'cannot be set\. A variant is CaltechMetric'):
        MissRateMetric(protocol='hda-benchmark', aspect_ratio=0.5, iou_thr=0.7)
    with pytest.raises(ValueError, match=r"is CaltechMetric, which takes \['settings'.*"
                                         r"\['data_root', 'score_thr'\] cannot be set"):
        MissRateMetric(protocol='caltech', data_root='/data', score_thr=0.3)


# --- caltech settings against loops -----------------------------------------------------

def _random_images(rng, n, cams=('cam17', 'cam19', 'cam60')):
    images = []
    for i in range(n):
        k = int(rng.integers(0, 6))
        h = rng.uniform(15, 160, k)
        w = h * rng.uniform(0.3, 0.55, k)
        x, y = rng.uniform(0, 600, k), rng.uniform(0, 300, k)
        persons = np.stack([x, y, x + w, y + h], 1)
        vis = np.where(rng.random(k) < 0.5, INF, np.round(rng.uniform(0.1, 1.0, k), 2))
        n_ign = int(rng.integers(0, 2))
        ix, iy = rng.uniform(0, 500, n_ign), rng.uniform(0, 250, n_ign)
        ignores = np.stack([ix, iy, ix + 120, iy + 90], 1)
        dets, scores = [], []
        for b in np.concatenate([persons, ignores]):
            for _ in range(int(rng.integers(0, 3))):
                bw, bh = b[2] - b[0], b[3] - b[1]
                j = rng.normal(0, 0.12, 4) * [bw, bh, bw, bh]
                dets.append(b + j)
                scores.append(rng.uniform(0.3, 1.0))
        for _ in range(int(rng.integers(0, 6))):
            hh = rng.uniform(15, 160)
            x0, y0 = rng.uniform(0, 600), rng.uniform(0, 300)
            dets.append([x0, y0, x0 + 0.41 * hh, y0 + hh])
            scores.append(rng.uniform(0, 0.7))
        dets = np.array(dets, dtype=np.float32).reshape(-1, 4)
        dets[:, 2:] = np.maximum(dets[:, 2:], dets[:, :2] + 1)
        images.append((cams[i % len(cams)], dets, np.round(np.array(scores), 2).astype(
            np.float32), persons.astype(np.float32), vis.astype(np.float32),
            ignores.astype(np.float32)))
    return images


def _xywh(b):
    b = [float(v) for v in b]
    return [b[0], b[1], b[2] - b[0], b[3] - b[1]]


def _caltech_loops(images, setting, aspect=.41, ref_fppi=ref.SAMPLES_MR2):
    """Dollár's loadGt (filterGtFun, resize of regular boxes only), evalAlgs (detection
    height filter), evalRes and compRoc, with the loops of hda_reference."""
    s = CALTECH_SETTINGS[setting]
    hr = [s['hr'][0] / s['filter'], s['hr'][1] * s['filter']]
    gtr, dtr = [], []
    for _, dets, scores, persons, vis, ignores in images:
        gt = []
        for b, v in zip(persons, vis):
            bb = _xywh(b)
            p = ref.filter_gt(True, bb, float(v), s['hr'], s['vr'], s['ar'])
            gt.append(ref.bb_resize([bb + [0]], 1, 0, aspect)[0] if p else bb + [1])
        gt += [_xywh(b) + [1] for b in ignores]
        dt = ref.bb_resize([_xywh(b) + [float(sc)] for b, sc in zip(dets, scores)], 1, 0,
                           aspect)
        dt = [d for d in dt if hr[0] <= d[3] < hr[1]]
        a, b = ref.eval_res(gt, dt, s['overlap'])
        gtr.append(a)
        dtr.append(b)
    return ref.log_average([1 - r for r in ref.comp_roc(gtr, dtr, ref_fppi)])


@pytest.mark.parametrize('seed', [0, 1])
def test_every_setting_agrees_with_loops_overall_and_per_camera(seed):
    images = _random_images(np.random.default_rng(seed), 240)
    m = CaltechMetric(settings=list(CALTECH_SETTINGS), aspect_ratio=0.41)
    res = run_metric(m, [sample(f'{c}_{i + 1:05d}', d, s, p, v, ig)
                         for i, (c, d, s, p, v, ig) in enumerate(images)])
    checked = 0
    for setting in CALTECH_SETTINGS:
        want = _caltech_loops(images, setting)
        assert res[f'{setting}/MR-2'] == pytest.approx(want, abs=1e-6, nan_ok=True), setting
        want4 = _caltech_loops(images, setting, ref_fppi=ref.SAMPLES_MR4)
        assert res[f'{setting}/MR-4'] == pytest.approx(want4, abs=1e-6, nan_ok=True), setting
        checked += 0.02 < want < 0.98
    for setting in DOLLAR_SETTINGS:
        for cam in ('cam17', 'cam60'):
            want = _caltech_loops([im for im in images if im[0] == cam], setting)
            assert res[f'{setting}/MR-2_{cam}'] == pytest.approx(want, abs=1e-6, nan_ok=True)
    assert checked >= 8  # most settings land where matching matters


def test_match_batch_equals_one_image_at_a_time():
    rng = np.random.default_rng(4)
    images = _random_images(rng, 60)
    flat = [match_image(d, s, np.concatenate([p, ig]), np.r_[np.zeros(len(p)), np.ones(len(ig))])
            for _, d, s, p, _, ig in images]
    dets = np.concatenate([im[1] for im in images])
    gts = np.concatenate([np.concatenate([im[3], im[5]]) for im in images])
    det_img = np.repeat(np.arange(len(images)), [len(im[1]) for im in images])
    gt_img = np.repeat(np.arange(len(images)), [len(im[3]) + len(im[5]) for im in images])
    reg = np.concatenate([np.r_[np.ones(len(im[3]), bool), np.zeros(len(im[5]), bool)]
                          for im in images])
    dm, gm = match_batch(dets, np.concatenate([im[2] for im in images]), det_img, gts, gts,
                         gt_img, np.ones((1, len(dets)), bool), reg[None], 0.5,
                         max_pairs=50)  # many chunks
    assert dm[0].tolist() == np.concatenate([f[0] for f in flat]).tolist()
    assert gm[0].tolist() == np.concatenate([f[1] for f in flat]).tolist()


def test_missing_visibility_is_counted():
    m = CaltechMetric(settings=['Occ=none', 'Occ=heavy'])
    run_metric(m, [sample('cam17_00001', [], [], [[0, 0, 41, 100], [50, 0, 91, 100]],
                          vis=[np.nan, 0.3]),
                   sample('cam17_00002', [], [], [[0, 0, 41, 100]])])
    assert m.missing_visibility == 2  # one NaN, one sample without the field
    # posv not set counts as unoccluded (the toolbox's rule)
    assert m.persons['Occ=none']['all'] == 2 and m.persons['Occ=heavy']['all'] == 1


# --- hda-benchmark in the metric == the tool on the exported files ----------------------

def test_metric_round_trip_through_alld(tmp_path):
    rng = np.random.default_rng(11)
    root = str(tmp_path)
    from test_hda_benchmark import make_release
    make_release(root, rng, cams=(2, 17, 60))
    # the model's predictions: the DetA rows as float32 tensors, every frame but a few
    from hda_plugin.evaluation.dbeval import benchmark_n_frames
    from hda_plugin.fileio.alld import read_alld
    samples = []
    for cam in (2, 17, 60):
        a = read_alld(osp.join(root, 'hda_detections', 'DetA', f'camera{cam:02d}', 'Detections',
                               'allD.txt'))
        nf = benchmark_n_frames(root, cam)
        for f in range(1, nf + 1):
            if f % 11 == 3:
                continue  # frames the test set lacks
            k = a.frame == f
            xyxy = np.concatenate([a.boxes[k, :2], a.boxes[k, :2] + a.boxes[k, 2:]], 1)
            samples.append(sample(f'cam{cam:02d}_{f:05d}', xyxy, a.scores[k], []))
    metric = HDABenchmarkMetric()
    metric.dataset_meta = dict(classes=('person', ), data_root=root)
    dump = DumpHDADetections('Model', root)
    for s in samples:
        metric.process({}, [s])
        dump.process({}, [s])
    res = metric.compute_metrics(metric.results)
    dump.compute_metrics(dump.results)
    scored = tool.main([root, '--detector', 'Model'])['Model']
    assert res['MR-2'] == pytest.approx(scored['pool'].mr2, abs=1e-12)
    for cam in ('cam17', 'cam60'):
        assert res[f'MR-2_{cam}'] == pytest.approx(scored[cam].mr2, abs=1e-12)
    with_02 = tool.main([root, '--detector', 'Model', '--cameras', '2', '17', '60'])['Model']
    assert res['MR-2_cam02'] == pytest.approx(with_02['cam02'].mr2, abs=1e-12)
    assert 0.05 < res['MR-2'] < 0.95
    # the exported file is what the transcription of dbEval scores too
    assert res['MR-2'] == pytest.approx(ref.db_eval(root, 'Model', [17, 60]), abs=1e-6)
    # the release's own folders are never overwritten
    with pytest.raises(FileExistsError, match='not written by hda-ssd'):
        DumpHDADetections('DetA', root)
    assert os.path.isfile(osp.join(root, 'hda_detections', 'Model', 'coco_results.json'))


def test_a_zero_miss_rate_point_follows_each_protocols_rule(caplog):
    """One reference point with every person found, 100 % missed at the other 8: dbEval
    (hda-benchmark) gives exactly 0, Dollár's acfTest floor (caltech) does not; both warn."""

    from hda_plugin.evaluation.functional import REF_FPPI, log_average_miss_rate
    from hda_plugin.evaluation.protocols import CALTECH_MISS_RATE_FLOOR, HDA_BENCHMARK
    fppi, miss = np.array([0.9, 1.0]), np.array([1.0, 0.0])  # all found at FPPI 1 only
    nofloor, samples = log_average_miss_rate(fppi, miss, REF_FPPI, HDA_BENCHMARK['miss_rate_floor'])
    floored, _ = log_average_miss_rate(fppi, miss, REF_FPPI, CALTECH_MISS_RATE_FLOOR)
    assert samples.tolist() == [1.0] * 8 + [0.0]
    assert nofloor == 0.0
    assert floored == pytest.approx(np.exp(np.log(1e-10) / 9))  # 0.077
    from hda_plugin.evaluation.functional import zero_miss_rate_warning
    msg = zero_miss_rate_warning(samples, REF_FPPI, 'protocol x', 'rule')
    assert msg == 'protocol x: the miss rate is 0 at FPPI 1 (1 of 9 reference points); rule.'
    assert zero_miss_rate_warning(np.ones(9), REF_FPPI, 'x', 'r') is None
