"""Log-average miss rate: hand-worked cases, and the HDA/Caltech definition implemented a
second time with plain loops (a transcription of bbGt.m evalRes/compRoc) on random data."""
import math

import numpy as np
import pytest
import torch
from mmdet.structures import DetDataSample
from mmengine.structures import InstanceData

from hda_plugin.evaluation import (
    REF_FPPI,
    CaltechMetric,
    log_average_miss_rate,
    match_image,
    miss_rate_fppi,
)
from hda_plugin.fileio.hda_layout import camera_of, hda_frame_of, sample_camera


def mr2_of(images, iou_thr=0.5):
    """images: [(dets, scores, gts, gt_ignore)] -> MR-2 through the library."""
    matches = [match_image(d, s, g, i, iou_thr)[0] for d, s, g, i in images]
    num_gt = sum(int((~np.asarray(i, dtype=bool)).sum()) for *_, i in images)
    curve = miss_rate_fppi([np.asarray(s) for _, s, _, _ in images], matches, num_gt,
                           len(images))
    return log_average_miss_rate(curve.fppi, curve.miss_rate)[0], curve


GT1, GT2 = [0, 0, 10, 20], [100, 0, 110, 20]
IGNORE = [200, 0, 300, 100]


def test_one_image_tp_duplicate_ignored_and_fp():
    dets = [[0, 0, 10, 18],      # A .9: IoU 0.9 with GT1 -> TP
            [0, 2, 10, 22],      # B .8: IoU 0.82 with GT1, already taken -> FP
            [210, 10, 220, 30],  # C .7: inside the ignore region (IoF 1, IoU 0.02) -> ignored
            [50, 50, 60, 70]]    # D .6: nothing -> FP
    scores = [.9, .8, .7, .6]
    dt, gt = match_image(dets, scores, [GT1, GT2, IGNORE], [0, 0, 1])
    assert dt.tolist() == [1, 0, -1, 0] and gt.tolist() == [1, 0, -1]
    mr2, curve = mr2_of([(dets, scores, [GT1, GT2, IGNORE], [0, 0, 1])])
    # kept detections A, B, D: FPPI 0, 1, 2 and recall 1/2 throughout -> miss rate 0.5
    assert curve.fppi.tolist() == [0, 1, 2]
    assert curve.miss_rate.tolist() == [0.5, 0.5, 0.5]
    assert mr2 == pytest.approx(0.5)


def test_regular_ground_truth_preferred_over_ignore_region():
    # IoU 0.6 with the person, fully inside the ignore region (IoF 1): a true positive
    det = [[0, 0, 10, 12]]
    dt, gt = match_image(det, [.5], [[0, 0, 10, 20], [-5, -5, 50, 50]], [0, 1])
    assert dt.tolist() == [1] and gt.tolist() == [1, -1]


def test_ignore_region_matches_many_detections():
    dets = [[210, 10, 220, 30], [230, 10, 240, 30], [250, 50, 260, 70]]
    dt, _ = match_image(dets, [.9, .8, .7], [IGNORE], [1])
    assert dt.tolist() == [-1, -1, -1]


def test_ties_keep_image_order():
    # image 1: a false positive at .5; image 2: a true positive at .5
    images = [([[50, 50, 60, 70]], [.5], [GT1], [0]),
              ([[0, 0, 10, 20]], [.5], [GT1], [0])]
    mr2, curve = mr2_of(images)
    assert curve.fppi.tolist() == [0.5, 0.5] and curve.miss_rate.tolist() == [1, 0.5]
    # 10^-2 .. 10^-0.5 lie before FPPI 0.5 (miss rate 1), 10^-0.25 and 10^0 after it (0.5)
    assert mr2 == pytest.approx(0.5 ** (2 / 9))
    # the other order of the same two images: the TP comes first
    mr2, curve = mr2_of(images[::-1])
    assert curve.fppi.tolist() == [0, 0.5] and mr2 == pytest.approx(0.5)


def test_image_without_ground_truth_and_no_detections_at_all():
    # a second image with only a false positive doubles nothing but the image count
    images = [([[0, 0, 10, 20]], [.9], [GT1, GT2], [0, 0]),
              ([[50, 50, 60, 70]], [.8], np.zeros((0, 4)), [])]
    mr2, curve = mr2_of(images)
    assert curve.fppi.tolist() == [0, 0.5] and curve.miss_rate.tolist() == [0.5, 0.5]
    assert mr2 == pytest.approx(0.5)
    # no detections: miss rate 1 everywhere
    mr2, _ = mr2_of([(np.zeros((0, 4)), [], [GT1], [0])])
    assert mr2 == 1.0


def test_sampling_takes_the_last_point_not_beyond_each_fppi():
    fppi = np.array([0.005, 0.02, 0.2, 0.9, 3.0])
    mr = np.array([0.9, 0.8, 0.5, 0.3, 0.1])
    mr2, samples = log_average_miss_rate(fppi, mr)
    # refs .01 .0178 .0316 .0562 .1 .178 .316 .562 1
    assert samples.tolist() == [0.9, 0.9, 0.8, 0.8, 0.8, 0.8, 0.5, 0.5, 0.3]
    assert mr2 == pytest.approx(math.exp(np.mean(np.log(samples))))


def test_voc_ap_of_the_same_image_by_hand():
    """MMDetection's eval_map (what VOCMetric uses) on the first case: VOC matches the
    ignore region by IoU, so C is a false positive there; AP (area) = 1.0 x recall 0.5."""
    from mmdet.evaluation.functional import eval_map
    dets = np.array([[0, 0, 10, 18, .9], [0, 2, 10, 22, .8], [210, 10, 220, 30, .7],
                     [50, 50, 60, 70, .6]], dtype=np.float32)
    ann = dict(bboxes=np.array([GT1, GT2], dtype=np.float32), labels=np.array([0, 0]),
               bboxes_ignore=np.array([IGNORE], dtype=np.float32), labels_ignore=np.array([0]))
    ap, _ = eval_map([[dets]], [ann], iou_thr=0.5, eval_mode='area', logger='silent')
    assert ap == pytest.approx(0.5)


# --- the definition a second time, with loops -------------------------------------------

def _oa(d, g, ignore):
    iw = min(d[2], g[2]) - max(d[0], g[0])
    ih = min(d[3], g[3]) - max(d[1], g[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    ad = (d[2] - d[0]) * (d[3] - d[1])
    ag = (g[2] - g[0]) * (g[3] - g[1])
    return inter / ad if ignore else inter / (ad + ag - inter)


def _eval_res(gts, ignores, dets, scores, thr):
    """bbGt.evalRes, statement by statement."""
    dord = sorted(range(len(dets)), key=lambda i: -scores[i])  # stable, as MATLAB's sort
    gord = sorted(range(len(gts)), key=lambda i: ignores[i])
    gflag = [-1 if ignores[g] else 0 for g in gord]
    out = []
    for d in dord:
        bst_oa, bstg, bstm = thr, -1, 0
        for k, g in enumerate(gord):
            m = gflag[k]
            if m == 1:
                continue
            if bstm != 0 and m == -1:
                break
            oa = _oa(dets[d], gts[g], m == -1)
            if oa < bst_oa:
                continue
            bst_oa, bstg, bstm = oa, k, (1 if m == 0 else -1)
        if bstm == 1:
            gflag[bstg] = 1
        out.append((scores[d], bstm))
    return out, sum(1 for f in gflag if f != -1)


def _mr2_loops(images, thr=0.5):
    dts, n_gt = [], 0
    for dets, scores, gts, ignores in images:
        res, ng = _eval_res(gts, ignores, dets, scores, thr)
        dts.extend(res)
        n_gt += ng
    dts = [x for x in dts if x[1] != -1]
    dts = sorted(dts, key=lambda x: -x[0])
    xs, ys, tp, fp = [-math.inf], [0.0], 0, 0
    for _, m in dts:
        tp += m == 1
        fp += m != 1
        xs.append(fp / len(images))
        ys.append(tp / n_gt)
    logs = []
    for ref in REF_FPPI:
        j = max(i for i, x in enumerate(xs) if x <= ref)
        logs.append(math.log(1 - ys[j]) if ys[j] < 1 else -math.inf)
    return math.exp(sum(logs) / len(logs))


def _random_images(rng, n_images):
    images = []
    for _ in range(n_images):
        n_gt = rng.integers(0, 6)
        x = rng.uniform(0, 600, n_gt)
        y = rng.uniform(0, 400, n_gt)
        h = rng.uniform(20, 150, n_gt)
        gts = np.stack([x, y, x + 0.41 * h, y + h], 1) if n_gt else np.zeros((0, 4))
        ignores = (rng.random(n_gt) < 0.2).astype(int)
        # detections: jittered copies of ground truths (some twice) and random boxes
        dets, scores = [], []
        for g in gts:
            for _ in range(rng.integers(0, 3)):
                w, hh = g[2] - g[0], g[3] - g[1]
                dets.append(g + rng.normal(0, 0.15, 4) * [w, hh, w, hh])
                scores.append(rng.uniform(0.3, 1.0))
        for _ in range(rng.integers(0, 8)):
            x0, y0, hh = rng.uniform(0, 600), rng.uniform(0, 400), rng.uniform(20, 150)
            dets.append([x0, y0, x0 + 0.41 * hh, y0 + hh])
            scores.append(rng.uniform(0.0, 0.7))
        dets = np.array(dets).reshape(-1, 4)
        dets[:, 2:] = np.maximum(dets[:, 2:], dets[:, :2] + 1)
        scores = np.round(np.array(scores), 2)  # 2 decimals: many ties
        images.append((dets, scores, gts, ignores))
    return images


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_agrees_with_a_loop_implementation_of_the_definition(seed):
    images = _random_images(np.random.default_rng(seed), 300)
    lib, _ = mr2_of(images)
    ref = _mr2_loops([(d.tolist(), s.tolist(), g.tolist(), i.tolist())
                      for d, s, g, i in images])
    assert 0.05 < ref < 0.95  # a case where matching matters
    assert lib == pytest.approx(ref, abs=1e-6)


def sample(path, dets, scores, gts, ignores=()):
    s = DetDataSample(metainfo=dict(img_path=path))
    s.pred_instances = InstanceData(bboxes=torch.tensor(dets, dtype=torch.float32)
                                    .reshape(-1, 4), scores=torch.tensor(scores),
                                    labels=torch.zeros(len(scores), dtype=torch.long))
    s.gt_instances = InstanceData(bboxes=torch.tensor(gts, dtype=torch.float32)
                                  .reshape(-1, 4), labels=torch.zeros(len(gts),
                                                                      dtype=torch.long))
    s.ignored_instances = InstanceData(bboxes=torch.tensor(list(ignores),
                                                           dtype=torch.float32)
                                       .reshape(-1, 4),
                                       labels=torch.zeros(len(ignores), dtype=torch.long))
    return s.to_dict()



def test_metric_reports_overall_and_per_camera():
    metric = CaltechMetric()
    metric.dataset_meta = dict(classes=('person', ))
    metric.process({}, [
        sample('hda_frames/cam17/I00001.jpg', [[0, 0, 10, 20]], [.9], [GT1]),
        sample('hda_frames/cam60/I00001.jpg', [[210, 10, 220, 30], [50, 50, 60, 70]],
               [.9, .8], [GT1], [IGNORE])])
    res = metric.evaluate(2)
    # CaltechMetric() is the caltech protocol without settings
    # found at FPPI 0: every sample is 0, floored at 1e-10 (CALTECH_MISS_RATE_FLOOR)
    assert res['caltech/MR-2_cam17'] == pytest.approx(1e-10)
    assert res['caltech/MR-2_cam60'] == pytest.approx(1.0)  # one FP, nothing found
    # overall: the TP (.9, cam17) first, then the FP (.8): miss rate 0.5 at FPPI 0 and 0.5
    assert res['caltech/MR-2'] == pytest.approx(0.5)
    assert metric.curves['cam60'].num_gt == 1 and metric.curves['all'].num_images == 2
    assert metric.curves['all'].curve.fppi.tolist() == [0.0, 0.5]


def test_camera_of_paths():
    assert camera_of('/data/hda_frames/cam60/I00012.jpg') == 'cam60'
    assert camera_of('tfrecord://x.tfrecord?camera02_frame') == 'cam02'
    assert camera_of('img.jpg') == 'all'


def test_sample_camera_prefers_the_samples_own_field():
    # the field wins over a path that names another camera; the path is the fallback
    assert sample_camera(dict(camera='cam54', img_path='/x/cam60/I00001.jpg')) == 'cam54'
    assert sample_camera(dict(img_path='/x/hda_frames/cam60/I00001.jpg')) == 'cam60'
    assert sample_camera(dict(camera='', img_path='img.jpg')) == 'all'
    # the benchmark's (camera, frame): the fields first, the img_id as the fallback
    assert hda_frame_of(dict(camera='cam54', frame=7, img_id='cam60_00001')) == (54, 7)
    assert hda_frame_of(dict(img_id='cam17_00012')) == (17, 12)
    with pytest.raises(ValueError, match='is not an HDADataset frame'):
        hda_frame_of(dict(img_id='shard#3', img_path='tfrecord://x'))


def test_height_range_and_aspect_ratio_options():
    m = CaltechMetric(height_range=(50, float('inf')), aspect_ratio=0.41)
    # a 30 px person becomes an ignore region; a 30 px detection (< 50 / 1.25) is dropped
    r = m.evaluate_image([[0, 0, 10, 30], [100, 0, 130, 100]], [.9, .8],
                         [[0, 0, 12, 30], [100, 0, 141, 100]], np.zeros((0, 4)), 'cam17')
    assert r.num_gt == 1 and len(r.scores) == 1 and r.dt_match.tolist() == [1]
    assert r.gt_match.tolist() == [-1, 1] and r.keep.tolist() == [False, True]
    curves = m.compute_curves([r])
    assert list(curves) == ['all', 'cam17'] and curves['cam17'].num_gt == 1
    assert curves['all'].mr2 == pytest.approx(1e-10)  # found at FPPI 0, floored
    # one of the settings must be named when the metric has several
    with pytest.raises(ValueError, match='name one of the settings'):
        CaltechMetric(settings=['Reasonable']).evaluate_image([], [], [], [])


def test_camera_voc_metric_is_vocmetric_overall_plus_each_camera():
    from mmdet.evaluation import VOCMetric

    from hda_plugin.evaluation import CameraVOCMetric
    samples = [sample('hda_frames/cam17/I00001.jpg', [[0, 0, 10, 20]], [.9], [GT1]),
               sample('hda_frames/cam60/I00001.jpg', [[50, 50, 60, 70]], [.8], [GT1])]
    results = {}
    for cls in (CameraVOCMetric, VOCMetric):
        metric = cls(metric='mAP', eval_mode='area', prefix='voc')
        metric.dataset_meta = dict(classes=('person', ))
        metric.process({}, [dict(s) for s in samples])
        results[cls.__name__] = metric.evaluate(2)
    cam, voc = results['CameraVOCMetric'], results['VOCMetric']
    assert cam['voc/AP50'] == voc['voc/AP50'] == pytest.approx(0.5)  # 1 of 2 found, first
    assert cam['voc/AP50_cam17'] == pytest.approx(1.0)
    assert cam['voc/AP50_cam60'] == pytest.approx(0.0)


@pytest.mark.parametrize('bad', ['box', 'score'])
def test_non_finite_predictions_stop_every_metric_naming_the_image(bad):
    import torch

    from hda_plugin.evaluation import CameraVOCMetric, DumpHDADetections
    boxes = torch.tensor([[0., 0., 10., 30.], [5., 5., 20., 50.]])
    scores = torch.tensor([0.9, 0.8])
    if bad == 'box':
        boxes[1, 2] = float('nan')
    else:
        scores[1] = float('inf')
    sample = dict(img_path='/x/hda_frames/cam17/I00001.jpg', img_id='cam17_00001',
                  pred_instances=dict(bboxes=boxes, scores=scores, labels=torch.zeros(2).long()),
                  gt_instances=dict(bboxes=torch.zeros((0, 4)), labels=torch.zeros(0).long()),
                  ignored_instances=dict(bboxes=torch.zeros((0, 4)),
                                         labels=torch.zeros(0).long()))
    for metric in (CaltechMetric(), CameraVOCMetric(metric='mAP'),
                   DumpHDADetections('X', '/nonexistent')):
        with pytest.raises(ValueError, match=r'cam17/I00001\.jpg: 1 of 2 predictions have a '
                                             r'non-finite box or score'):
            metric.process({}, [sample])
