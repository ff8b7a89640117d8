"""The ``citypersons`` protocol: equal to a loop transcription of the official script on
random sets, hand-derived cases (the quirk, the closed ranges, the cap, the tie rule), and
the registered metric equal to the function."""
import math
import os.path as osp
import sys

import numpy as np
import pytest
import torch
from mmdet.registry import METRICS
from mmdet.structures import DetDataSample
from mmengine.structures import InstanceData

import hda_plugin  # noqa: F401  (registers the metric)
from hda_plugin.evaluation import (
    CITYPERSONS_SETUPS,
    CityPersonsImage,
    CityPersonsMetric,
    evaluate_citypersons,
)

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
import citypersons_reference as ref  # noqa: E402

SETUPS = tuple(CITYPERSONS_SETUPS)
# heights around every boundary: gt 20/50/75, detections 16/40/93.75 (x 1/1.25, x 1.25)
HEIGHTS = np.array([15, 16, 19, 20, 21, 39, 40, 41, 49, 50, 51, 74, 75, 76, 93, 93.75, 94,
                    130])
VIS = np.array([0.1, 0.19, 0.2, 0.21, 0.5, 0.64, 0.65, 0.66, 1.0, np.nan])


def img(dets=(), scores=(), persons=(), vis=None, ignores=()):
    return CityPersonsImage(np.asarray(dets, np.float64).reshape(-1, 4),
                            np.asarray(scores, np.float64).reshape(-1),
                            np.asarray(persons, np.float64).reshape(-1, 4),
                            None if vis is None else np.asarray(vis),
                            np.asarray(ignores, np.float64).reshape(-1, 4))


def random_set(rng):
    """1-6 images: persons and ignore regions at boundary heights and visibilities,
    detections near persons, on ignore regions and anywhere, tied scores; some images
    without ground truth or detections."""
    def boxes(n):
        x, y = rng.uniform(0, 150, n), rng.uniform(0, 80, n)
        h = rng.choice(HEIGHTS, n) + rng.choice([0, 0, 0, 0.5, -0.5], n)
        w = h * rng.uniform(0.3, 0.6, n)
        return np.stack([x, y, x + w, y + h], 1)

    out = []
    for _ in range(rng.integers(1, 7)):
        persons, ignores = boxes(rng.integers(0, 5)), boxes(rng.integers(0, 3))
        near = [b + rng.normal(0, rng.choice([1, 4]), b.shape) for b in (persons, ignores)]
        dets = np.concatenate(near + [boxes(rng.integers(0, 4))])
        dets = dets[rng.permutation(len(dets))][:rng.integers(0, 12)]
        scores = rng.choice([.2, .5, .9], len(dets)) if rng.random() < .4 else \
            rng.random(len(dets))
        vis = rng.choice(VIS, len(persons)) if rng.random() < .9 else None
        out.append(CityPersonsImage(dets, scores, persons, vis, ignores))
    return out


def assert_equal_to_reference(images, setups=SETUPS):
    res = evaluate_citypersons(images, setups)
    for name in setups:
        mr, q, fppi, recall = ref.evaluate_setup(images, name)
        s = res.setups[name]
        if mr == -1:
            assert math.isnan(s.mr) and s.num_persons == 0
            continue
        assert abs(mr - s.mr) <= 1e-6, (name, mr, s.mr)
        np.testing.assert_allclose(1 - np.array(q), s.ref_miss_rate, atol=1e-12)
        np.testing.assert_allclose(fppi, s.fppi, atol=1e-12)
        np.testing.assert_allclose(recall, 1 - s.miss_rate, atol=1e-12)
    return res


# --- (a) equal to the loop transcription of the script ----------------------------------

def test_equals_reference_on_random_sets():
    rng = np.random.default_rng(20240607)
    seen = dict(quirk=0, nan=0, no_gt_img=0, no_det_img=0, on_ignore=0, out_of_range=0,
                mr_between=0)
    for _ in range(250):
        images = random_set(rng)
        res = assert_equal_to_reference(images)
        seen['no_gt_img'] += sum(len(i.persons) == 0 for i in images)
        seen['no_det_img'] += sum(len(i.dets) == 0 for i in images)
        for s in res.setups.values():
            seen['quirk'] += s.quirk_points > 0
            seen['nan'] += math.isnan(s.mr)
            seen['on_ignore'] += s.dets_on_ignore > 0
            seen['out_of_range'] += s.dets_out_of_range > 0
            seen['mr_between'] += 0 < s.mr < 1
    # the random sets reach every branch the test is meant to compare
    assert all(v >= 10 for v in seen.values()), seen


def test_equals_reference_past_the_detection_cap():
    rng = np.random.default_rng(3)
    persons = np.array([[10, 10, 40, 90], [100, 10, 130, 70], [200, 10, 220, 40]], float)
    dets = np.concatenate([persons + rng.normal(0, 2, persons.shape),
                           rng.uniform(0, 300, (1100, 2)).repeat(2, 1) + [0, 0, 25, 60]])
    scores = rng.random(len(dets))
    scores[:3] = [.05, 1e-4, .5]  # one true positive inside the cap, two past it
    images = [img(dets, scores, persons, [1, .5, .9], [[250, 0, 300, 100]]), img()]
    res = assert_equal_to_reference(images)
    assert res.dets_over_cap == 103  # 1103 detections in the first image


# --- (b) hand-derived cases -------------------------------------------------------------

P = [0, 0, 40, 100]  # a 100 px person


def test_perfect_detector_is_zero():
    # every point reads recall 1: miss rate 0, log 0 = -inf, exp(-inf) = 0 (no floor)
    res = evaluate_citypersons([img([P], [.9], [P], [1.]), img([[50, 0, 90, 100]], [.8],
                                                              [[50, 0, 90, 100]], [1.])])
    assert res.setups['Reasonable'].mr == 0.0
    assert res.setups['All'].num_persons == 2


def test_one_of_two_found_without_false_positives_is_one_half():
    # recall 0.5 at every FPPI point (fppi stays 0): MR = exp(mean(log 0.5)) = 0.5
    res = evaluate_citypersons([img([P], [.9], [P, [100, 0, 140, 100]], [1., 1.])])
    assert res.setups['Reasonable'].mr == pytest.approx(0.5, abs=1e-12)


def test_first_false_positive_reads_the_last_recall():
    # 1 image, 2 persons; a false positive (.9) then a true positive (.8): fppi [1, 1],
    # recall [0, .5]. Points 0.01..0.5623 get searchsorted(...) - 1 = -1 and read the last
    # recall .5 (the curve's own miss rate there is 1); point 1.0 reads index 1, recall .5.
    # The script's MR is 0.5; without the quirk it would be 0.5 ** (1 / 9) = 0.926.
    res = evaluate_citypersons([img([[300, 0, 340, 100], P], [.9, .8],
                                    [P, [100, 0, 140, 100]], [1., 1.])])
    s = res.setups['Reasonable']
    assert s.quirk_points == 8
    assert s.mr == pytest.approx(0.5, abs=1e-12)
    np.testing.assert_allclose(s.ref_miss_rate, 0.5)
    np.testing.assert_allclose(s.fppi, [1, 1])


def test_detection_on_ignore_region_counts_neither():
    # 3 persons; scores: true positive .9, a box half inside an ignore region .8 (its
    # intersection over its own area 0.5, IoU with the region 0.25), true positive .7.
    # With the region: curve [TP, TP], recall 2/3 at fppi 0: MR 1/3. Without it the .8
    # box is a false positive: fppi [0, 1, 1], recall [1/3, 1/3, 2/3]: 8 points read 1/3
    # (miss 2/3), point 1.0 reads 2/3 (miss 1/3): MR = (2/3) ** (8/9) * (1/3) ** (1/9).
    persons = [P, [100, 0, 140, 100], [200, 0, 240, 100]]
    dets = [P, [500, 0, 540, 100], [100, 0, 140, 100]]
    region = [520, 0, 600, 100]
    with_region = evaluate_citypersons([img(dets, [.9, .8, .7], persons, [1] * 3, [region])])
    without = evaluate_citypersons([img(dets, [.9, .8, .7], persons, [1] * 3)])
    assert with_region.setups['Reasonable'].dets_on_ignore == 1
    assert with_region.setups['Reasonable'].mr == pytest.approx(1 / 3, abs=1e-12)
    assert without.setups['Reasonable'].mr == pytest.approx(
        (2 / 3) ** (8 / 9) * (1 / 3) ** (1 / 9), abs=1e-12)


def test_closed_ranges_and_float32_visibility():
    # the script's ranges are closed: a 75 px person is Small, 0.65 visible is Reasonable
    # and Heavy; visibility packed as float32 keeps 0.65 (compared at its precision)
    b = [0, 0, 30, 75]
    res = evaluate_citypersons([img([b], [.9], [b], np.array([0.65], np.float32))])
    assert [res.setups[k].num_persons for k in SETUPS] == [1, 1, 1, 1]
    assert all(res.setups[k].mr == 0 for k in SETUPS)
    taller = [0, 0, 30, 76]
    res = evaluate_citypersons([img([taller], [.9], [taller], [0.66])])
    assert [res.setups[k].num_persons for k in SETUPS] == [1, 0, 0, 1]
    assert math.isnan(res.setups['Small'].mr) and math.isnan(res.setups['Heavy'].mr)


def test_missing_visibility_is_fully_visible_and_counted():
    res = evaluate_citypersons([img([P], [.9], [P, [100, 0, 140, 100]], [np.nan, np.inf]),
                                img([P], [.9], [P], None)])
    assert res.missing_visibility == 3
    assert res.setups['Reasonable'].num_persons == 3
    assert res.setups['Heavy'].num_persons == 0


def test_detection_height_filter():
    # a 39 px detection on a 50 px person (IoU .78): below 50 / 1.25 = 40, dropped in
    # Reasonable (the person missed, MR 1); kept in All (>= 16): MR 0
    res = evaluate_citypersons([img([[0, 0, 20, 39]], [.9], [[0, 0, 20, 50]], [1.])])
    assert res.setups['Reasonable'].mr == 1.0
    assert res.setups['Reasonable'].dets_out_of_range == 1
    assert res.setups['All'].mr == 0.0


def test_iou_exactly_one_half_matches():
    # intersection 40x50 = 2000, union 4000: IoU 0.5 >= 0.5, a true positive: MR 0
    res = evaluate_citypersons([img([[0, 0, 40, 50]], [.9], [P], [1.])])
    assert res.setups['Reasonable'].mr == 0.0


def test_equal_iou_takes_the_later_person():
    # D1 overlaps A and B with IoU 0.6 each and takes the later one; D2 equals A.
    # Persons [A, B]: D1 -> B, D2 -> A, both found: MR 0. Persons [B, A]: D1 -> A, D2 then
    # overlaps only B (IoU 1/3): recall [.5, .5], fppi [0, 1]: MR 0.5.
    a, b = [0, 0, 40, 100], [20, 0, 60, 100]
    dets = [[10, 0, 50, 100], a]
    assert evaluate_citypersons([img(dets, [.9, .8], [a, b], [1, 1])]).setups[
        'Reasonable'].mr == 0.0
    assert evaluate_citypersons([img(dets, [.9, .8], [b, a], [1, 1])]).setups[
        'Reasonable'].mr == pytest.approx(0.5, abs=1e-12)


def test_detections_past_the_cap_are_not_evaluated():
    # 1000 false positives scored above the only true positive: the cap drops it, the
    # person is missed (MR 1); scored one place higher, it is kept and found.
    fps = [[300, 0, 340, 100]] * 1000
    s = list(np.linspace(.99, .5, 1000))
    res = evaluate_citypersons([img(fps + [P], s + [.1], [P], [1.])], ('Reasonable', ))
    assert res.dets_over_cap == 1 and res.setups['Reasonable'].mr == 1.0
    res = evaluate_citypersons([img(fps[1:] + [P], s[1:] + [.1], [P], [1.])],
                               ('Reasonable', ))
    assert res.dets_over_cap == 0 and res.setups['Reasonable'].mr < 1.0


def test_no_detections_is_one_and_no_persons_is_nan():
    # no detection on the curve: the script's try/except leaves every recall 0: MR 1
    assert evaluate_citypersons([img(persons=[P], vis=[1.])]).setups['All'].mr == 1.0
    assert math.isnan(evaluate_citypersons([img([P], [.9])]).setups['All'].mr)


def test_bad_input_names_the_image():
    with pytest.raises(ValueError, match='image 1: 1 scores for 2'):
        evaluate_citypersons([img(), CityPersonsImage(np.zeros((2, 4)), np.zeros(1),
                                                      np.zeros((0, 4)), None,
                                                      np.zeros((0, 4)))])
    with pytest.raises(ValueError, match=r'image 0 \(a.png\): persons'):
        evaluate_citypersons([CityPersonsImage(np.zeros((0, 4)), np.zeros(0),
                                               np.zeros((2, 3)), None, np.zeros((0, 4)),
                                               'a.png')])
    with pytest.raises(ValueError, match='Unknown CityPersons setup'):
        evaluate_citypersons([img()], ('Occ=heavy', ))


# --- (c) the registered metric ----------------------------------------------------------

def to_sample(i, im, extra_gt=0):
    s = DetDataSample(metainfo=dict(img_id=i, img_path=f'img{i}.png'))
    f32 = dict(dtype=torch.float32)
    s.pred_instances = InstanceData(
        bboxes=torch.tensor(np.r_[im.dets, [[0, 0, 50, 120]]], **f32),  # + a class-1 box
        scores=torch.tensor(np.r_[im.scores, [.99]], **f32),
        labels=torch.tensor([0] * len(im.dets) + [1]))
    other = np.array([[5, 5, 45, 125]] * extra_gt).reshape(-1, 4)
    s.gt_instances = InstanceData(
        bboxes=torch.tensor(np.r_[im.persons, other], **f32),
        labels=torch.tensor([0] * len(im.persons) + [1] * extra_gt))
    if im.visibility is not None:
        s.gt_instances.visibility = torch.tensor(np.r_[im.visibility, [1.] * extra_gt],
                                                 **f32)
    s.ignored_instances = InstanceData(bboxes=torch.tensor(im.ignores, **f32),
                                       labels=torch.zeros(len(im.ignores), dtype=torch.long))
    return s.to_dict()


def test_registered_metric_equals_the_function(tmp_path):
    from mmengine.logging import MMLogger
    # a logger of this test's own, made current: what another test left as the current
    # instance may write elsewhere (a file, another test's captured stream)
    log_file = str(tmp_path / 'citypersons.log')
    assert MMLogger.get_instance('citypersons-metric-test', log_file=log_file) is \
        MMLogger.get_current_instance()
    rng = np.random.default_rng(11)
    images = [im for _ in range(8) for im in random_set(rng)]
    # the function on what the metric sees: float32 boxes, scores and visibility, the
    # other-class ground truths as ignore regions
    seen = [CityPersonsImage(
        im.dets.astype(np.float32), im.scores.astype(np.float32),
        im.persons.astype(np.float32),
        None if im.visibility is None else im.visibility.astype(np.float32),
        np.r_[im.ignores.astype(np.float32),
              np.array([[5, 5, 45, 125]] * (k % 2), np.float32).reshape(-1, 4)])
        for k, im in enumerate(images)]
    expected = evaluate_citypersons(seen).metrics
    metric = METRICS.build(dict(type='CityPersonsMetric'))
    assert isinstance(metric, CityPersonsMetric) and metric.protocol == 'citypersons'
    metric.dataset_meta = dict(classes=('person', ))
    for k in range(0, len(images), 3):
        metric.process({}, [to_sample(j, images[j], j % 2)
                            for j in range(k, min(k + 3, len(images)))])
    got = metric.evaluate(len(images))
    assert list(got) == [f'citypersons/{k}' for k in SETUPS]
    for k in SETUPS:
        e, g = expected[k], got[f'citypersons/{k}']
        assert (math.isnan(e) and math.isnan(g)) or g == pytest.approx(e, abs=1e-12)
    assert any(0 < v < 1 for v in got.values())
    text = open(log_file).read()
    assert 'protocol citypersons' in text and 'Reasonable_occ=heavy' in text
    for k in SETUPS:  # the table's row: its persons and its MR
        s = metric.last.setups[k]
        mr = f'{s.mr:.2%}' if np.isfinite(s.mr) else 'n/a'
        assert any(line.split()[:1] == [k] and f' {s.num_persons} ' in line and mr in line
                   for line in text.splitlines()), (k, text)
    assert f'{len(images) // 2} ground truths of a class other than 0' in text


def test_metric_setups_argument_and_unknown_setup():
    m = METRICS.build(dict(type='CityPersonsMetric', setups=['Small']))
    m.dataset_meta = dict(classes=('person', ))
    m.process({}, [to_sample(0, img([[0, 0, 30, 60]], [.9], [[0, 0, 30, 60]], [1.]))])
    assert m.evaluate(1) == {'citypersons/Small': 0.0}
    with pytest.raises(ValueError, match='Unknown CityPersons setup'):
        METRICS.build(dict(type='CityPersonsMetric', setups=['Occ=heavy']))
