"""CrowdHumanPersonDataset on tiny releases (.odgt + Images/): every box, ignore region and
visibility image by image, no cache written, the configs, MMDetection's CrowdHumanMetric on
them, and the bad inputs."""
import json
import os
import os.path as osp

import numpy as np
import pytest
import torch
from mmdet.registry import DATASETS, METRICS
from mmengine.config import Config

import hda_plugin  # noqa: F401
from hda_plugin.testing.crowdhuman_release import (
    CrowdHumanBox,
    CrowdHumanImage,
    make_crowdhuman_release,
    odgt_line,
)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

# TINY_CROWDHUMAN['val'] in test mode: fbox kept as annotated; visibility area(vbox ∩ fbox)
# over area(fbox)
VAL = {
    '273271,c9db000d5146c15': ((160, 200), [
        ([20, 20, 60, 120], 0, 0.5),
        ([170, 30, 220, 130], 0, 0.6),  # reaches past x=200
        ([100, 10, 160, 50], 1, 1.0)]),  # mask
    '273275,4e9d1000623d253e': ((180, 240), [
        ([50, 40, 70, 120], 0, 0.5),  # vbox 45..75 wider than fbox 50..70: 20x40 inside
        ([100, 30, 130, 120], 1, 1.0)]),  # extra.ignore; the zero-height person dropped
    '284193,faa9000f2678b5e': ((160, 200), [
        ([60, 20, 90, 120], 0, 1.0)]),  # the wholly outside person dropped
}


def _instances(ds):
    out = {}
    for i in range(len(ds)):
        d = ds.get_data_info(i)
        assert d['camera'] == 'val' and d['img_path'].endswith(f'Images/{d["img_id"]}.jpg')
        assert all(x['bbox_label'] == 0 for x in d['instances'])
        out[d['img_id']] = ((d['height'], d['width']), [
            (x['bbox'], x['ignore_flag'], pytest.approx(x['visibility'])) for x in d['instances']])
    return out


def _expected():
    return {k: (hw, [(b, ig, pytest.approx(v)) for b, ig, v in insts])
            for k, (hw, insts) in VAL.items()}


@pytest.fixture
def release(tmp_path):
    root = str(tmp_path / 'crowdhuman')
    make_crowdhuman_release(root)
    return root


def build(root, **kw):
    return DATASETS.build(dict(type='CrowdHumanPersonDataset', data_root=root, pipeline=[],
                               **kw))


def test_val_image_by_image_and_no_cache_written(release):
    before = sorted(os.listdir(release))
    ds = build(release, split='val', test_mode=True)
    assert _instances(ds) == _expected()
    # in .odgt order: CrowdHumanMetric pairs its lines with the predictions in order
    assert [ds.get_data_info(i)['img_id'] for i in range(len(ds))] == list(VAL)
    assert dict(ds.summary.total()) == dict(images=3, persons=4, ignore_mask=1,
                                            ignore_extra=1, ignore_custom=0, clipped=1,
                                            zero_area=1, outside=1, missing=0)
    assert sorted(os.listdir(release)) == before  # no id_hw_val.json, unlike mmdet's class


def test_training_clips_boxes(release):
    ds = build(release, split='train')
    first = ds.get_data_info(0)['instances']
    assert [(x['bbox'], x['ignore_flag']) for x in first] == [([0, 20, 30, 120], 0),
                                                              ([120, 10, 180, 50], 1)]
    assert first[0]['visibility'] == pytest.approx(0.75)
    assert ds.summary.total()['clipped'] == 1 and list(ds.summary.groups) == ['train']


def test_explicit_size_cache_honoured_and_checked(release):
    cache = osp.join(release, 'id_hw_val.json')
    sizes = {k: list(hw) for k, (hw, _) in VAL.items()}
    with open(cache, 'w') as f:
        json.dump(sizes, f)
    ds = build(release, split='val', test_mode=True, extra_ann_file='id_hw_val.json')
    assert _instances(ds) == _expected()
    sizes['284193,faa9000f2678b5e'] = [1067, 800]
    with open(cache, 'w') as f:
        json.dump(sizes, f)
    with pytest.raises(ValueError, match=r"id_hw_val\.json: '284193,faa9000f2678b5e' "
                       r'\(annotation_val\.odgt:3\) is 800x1067 there but .*is 200x160 '
                       r'\(JPEG header\): the cache is stale'):
        build(release, split='val', test_mode=True, extra_ann_file='id_hw_val.json')
    del sizes['284193,faa9000f2678b5e']
    with open(cache, 'w') as f:
        json.dump(sizes, f)
    with pytest.raises(ValueError, match=r"no size for '284193,faa9000f2678b5e' "
                                         r'\(annotation_val\.odgt:3\)'):
        build(release, split='val', test_mode=True, extra_ann_file='id_hw_val.json')


def test_unknown_tags_listed(tmp_path):
    root = str(tmp_path)
    make_crowdhuman_release(root, {'val': [
        CrowdHumanImage('a', [CrowdHumanBox('person', (1, 1, 9, 20)),
                              CrowdHumanBox('statue', (20, 1, 9, 20))]),
        CrowdHumanImage('b', [CrowdHumanBox('statue', (1, 1, 9, 20)),
                              CrowdHumanBox('poster', (20, 1, 9, 20))])]})
    with pytest.raises(ValueError) as e:
        build(root, split='val')
    msg = str(e.value)
    assert "'statue': 2 boxes, first at " in msg and 'annotation_val.odgt:1 gtboxes[1]' in msg
    assert "'poster': 1 boxes, first at " in msg and 'annotation_val.odgt:2 gtboxes[1]' in msg
    assert "ignore_tags=['mask', 'statue', 'poster']" in msg
    ds = build(root, split='val', ignore_tags=('mask', 'statue', 'poster'))
    assert ds.summary.total()['ignore_custom'] == 3 and ds.summary.total()['persons'] == 1


def test_missing_key_names_line_and_box(tmp_path):
    root = str(tmp_path)
    imgs = [CrowdHumanImage('a', [CrowdHumanBox('person', (1, 1, 9, 20))]),
            CrowdHumanImage('b', [CrowdHumanBox('person', (1, 1, 9, 20))])]
    bad = json.loads(odgt_line(imgs[1]))
    del bad['gtboxes'][0]['fbox']
    make_crowdhuman_release(root, {'val': imgs}, lines={'val': [odgt_line(imgs[0]),
                                                                json.dumps(bad)]})
    with pytest.raises(ValueError, match=r"annotation_val\.odgt:2: .*Missing key 'fbox' in "
                                         'box 0'):
        build(root, split='val')


def test_missing_image_error_or_counted_in_training(release):
    os.remove(osp.join(release, 'Images', '273275,4e9d1000623d253e.jpg'))
    with pytest.raises(FileNotFoundError, match=r"annotation_val\.odgt:2: image "
                       r"'273275,4e9d1000623d253e' is annotated but .*does not exist"):
        build(release, split='val', test_mode=True)
    ds = build(release, split='val', missing_images='skip')
    assert len(ds) == 3 - 1 and ds.summary.total()['missing'] == 1
    with pytest.raises(ValueError, match="missing_images='skip' in test mode"):
        build(release, split='val', test_mode=True, missing_images='skip')
    with pytest.raises(FileNotFoundError, match=r'annotation_test\.odgt does not exist.*'
                                                'CROWDHUMAN_ROOT'):
        build(release, split='test')


def _load_config(path, monkeypatch, root):
    monkeypatch.setenv('CROWDHUMAN_ROOT', root)  # as the docs write it: no trailing slash
    return Config.fromfile(osp.join(ROOT, path))


def test_base_config_builds_the_val_split(release, monkeypatch):
    cfg = _load_config('configs/_base_/datasets/crowdhuman.py', monkeypatch, release)
    ds = DATASETS.build(cfg.test_dataloader.dataset)
    assert ds.test_mode and _instances(ds) == _expected()
    (ev, ) = cfg.test_evaluator
    assert ev['type'] == 'CrowdHumanMetric' and \
        osp.normpath(ev['ann_file']) == osp.join(release, 'annotation_val.odgt')
    assert osp.isfile(ev['ann_file'])
    assert len(DATASETS.build(cfg.train_dataloader.dataset)) == 2


def test_ssd512_config_builds_train_and_test(release, monkeypatch):
    cfg = _load_config('configs/ssd512_crowdhuman.py', monkeypatch, release)
    assert cfg.model.bbox_head.num_classes == 1
    assert [e['type'] for e in cfg.test_evaluator] == ['CrowdHumanMetric']
    assert _instances(DATASETS.build(cfg.test_dataloader.dataset)) == _expected()
    train = DATASETS.build(cfg.train_dataloader.dataset)
    assert type(train.dataset).__name__ == 'CrowdHumanPersonDataset' and len(train) == 2
    assert tuple(train[0]['inputs'].shape) == (3, 512, 512)


def test_test_pipeline_packs_one_sample(release, monkeypatch):
    cfg = _load_config('configs/_base_/datasets/crowdhuman.py', monkeypatch, release)
    out = DATASETS.build(cfg.test_dataloader.dataset)[1]
    sample = out['data_samples']
    assert tuple(out['inputs'].shape) == (3, 512, 512) and sample.ori_shape == (180, 240)
    assert sample.img_id == '273275,4e9d1000623d253e' and sample.metainfo['camera'] == 'val'
    assert sample.gt_instances.bboxes.tensor.tolist() == [[50, 40, 70, 120]]
    assert sample.gt_instances.visibility.tolist() == pytest.approx([0.5])
    assert sample.ignored_instances.bboxes.tensor.tolist() == [[100, 30, 130, 120]]


def _run_metric(ann_file, ds, preds):
    metric = METRICS.build(dict(type='CrowdHumanMetric', ann_file=ann_file,
                                metric=['AP', 'MR', 'JI'], num_ji_process=1))
    samples = []
    for i in range(len(ds)):
        d = ds.get_data_info(i)
        boxes = np.array(preds.get(d['img_id'], np.zeros((0, 5))), np.float32).reshape(-1, 5)
        samples.append(dict(img_id=d['img_id'], ori_shape=(d['height'], d['width']),
                            pred_instances=dict(bboxes=torch.from_numpy(boxes[:, :4]),
                                                scores=torch.from_numpy(boxes[:, 4]))))
    metric.process({}, samples)
    return metric.compute_metrics(metric.results)


def test_crowdhuman_metric_runs_on_cpu_with_this_dataset(tmp_path):
    """mmdet's CrowdHumanMetric reads the .odgt itself (tag mask and extra.ignore as
    ignore) and only img_id / ori_shape / predictions from the samples: the label 0 and
    ignore instances of this data set never reach it."""
    root = str(tmp_path)
    imgs = [CrowdHumanImage('a', [CrowdHumanBox('person', (10, 10, 30, 80)),
                                  CrowdHumanBox('mask', (100, 10, 60, 50))]),
            CrowdHumanImage('b', [CrowdHumanBox('person', (20, 30, 30, 90)),
                                  CrowdHumanBox('person', (120, 30, 30, 90), None, 1)])]
    ann = make_crowdhuman_release(root, {'val': imgs})['val']
    ds = build(root, split='val', test_mode=True)
    perfect = {'a': [[10, 10, 40, 90, 0.9], [105, 15, 155, 55, 0.8]],  # 2nd on the mask
               'b': [[20, 30, 50, 120, 0.9], [120, 30, 150, 120, 0.7]]}  # 2nd on the ignore
    res = _run_metric(ann, ds, perfect)
    # both persons found; detections on ignore regions are neither TP nor FP. AP as
    # CrowdDet integrates it from the first recall point (0.5): 0.5
    assert res['mMR'] == 0.0 and res['JI'] == 1.0 and res['mAP'] == 0.5
    false_positive = [150, 100, 190, 150, 0.95]  # on the background, scored highest
    res = _run_metric(ann, ds, dict(perfect, a=perfect['a'] + [false_positive]))
    # upstream quirk (docs/datasets.md, CrowdHuman): the curve reaches every person before
    # FPPI 1, its last miss rate 0 enters the log-average unfloored: MR 0 despite the FP
    assert res['mMR'] == 0.0 and res['JI'] < 1.0 and res['mAP'] < 0.5
    res = _run_metric(ann, ds, dict(a=perfect['a'] + [false_positive], b=perfect['b'][1:]))
    assert res['mMR'] > 0.0 and res['JI'] < 1.0 and res['mAP'] < 0.5
