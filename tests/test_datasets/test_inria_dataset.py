"""INRIAPersonDataset on tiny releases written in the real format: every box of every image,
the negatives, the label and size checks, and the INRIA configs (dataset base, SSD-512 on
INRIA, and the benchmark's own setting INRIA -> HDA)."""
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
from mmdet.registry import DATASETS
from mmengine.config import Config

import hda_plugin  # noqa: F401  (registers the data sets)
from hda_plugin.datasets import HDADataset, INRIAPersonDataset
from hda_plugin.evaluation.protocols import HDA_BENCHMARK
from hda_plugin.fileio.hda_layout import HDA_CAMERAS, HDA_LAYOUT, camera_name, frame_filename
from hda_plugin.testing.inria_release import (
    TINY_INRIA,
    InriaImage,
    InriaSplit,
    make_inria_release,
    pascal_annotation_text,
)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BENCHMARK_CAMERAS = [c for c in HDA_CAMERAS if c not in HDA_BENCHMARK['excluded_cameras']]


@pytest.fixture(scope='module')
def release(tmp_path_factory):
    return make_inria_release(str(tmp_path_factory.mktemp('inria')))


def expected(split, negatives):
    """img_id -> (width, height, boxes): the writer's boxes, Xmax/Ymax as x2/y2, clipped."""
    out = {}
    for img in TINY_INRIA[split].pos:
        boxes = [[float(max(x1, 0)), float(max(y1, 0)), float(min(x2, img.width)),
                  float(min(y2, img.height))] for x1, y1, x2, y2 in img.boxes]
        out[f'{split}/pos/{img.name}'] = (img.width, img.height, boxes)
    if negatives:
        for img in TINY_INRIA[split].neg:
            out[f'{split}/neg/{img.name}'] = (img.width, img.height, [])
    return out


def infos(ds):
    return [ds.get_data_info(i) for i in range(len(ds))]


def check_images(ds, split, negatives):
    want = expected(split, negatives)
    got = infos(ds)
    assert [d['img_id'] for d in got] == list(want)
    for d in got:
        w, h, boxes = want[d['img_id']]
        assert (d['width'], d['height'], d['camera']) == (w, h, split)
        assert d['img_path'] == osp.join(ds.data_root, d['img_id'])
        assert [i['bbox'] for i in d['instances']] == boxes
        assert all(i['bbox_label'] == 0 and i['ignore_flag'] == 0 and 'visibility' not in i
                   for i in d['instances'])


def test_every_box_of_train_and_its_negatives(release):
    ds = INRIAPersonDataset(data_root=release, split='Train',
                            filter_cfg=dict(filter_empty_gt=False, min_size=32))
    check_images(ds, 'Train', negatives=True)
    # one of the three persons reaches past the right edge: clipped, counted
    assert infos(ds)[0]['instances'][1]['bbox'] == [150., 40., 200., 230.]
    counts = ds.summary.groups['Train']
    assert dict(counts) == dict(images=4, positives=2, negatives=2, persons=3, ignore_label=0,
                                clipped=1, zero_area=0, outside=0)


def test_test_split_is_dollars_positive_images(release):
    ds = INRIAPersonDataset(data_root=release, split='Test', test_mode=True)
    check_images(ds, 'Test', negatives=False)
    with_neg = INRIAPersonDataset(data_root=release, split='Test', test_mode=True,
                                  negatives=True)
    check_images(with_neg, 'Test', negatives=True)
    no_neg = INRIAPersonDataset(data_root=release, split='Train', negatives=False)
    check_images(no_neg, 'Train', negatives=False)


def test_filter_empty_gt_removes_the_negatives(release):
    ds = INRIAPersonDataset(data_root=release, split='Train',
                            filter_cfg=dict(filter_empty_gt=True, min_size=32))
    assert [d['img_id'] for d in infos(ds)] == list(expected('Train', negatives=False))


def test_summary_is_logged(release, monkeypatch):
    logged = []
    monkeypatch.setattr('hda_plugin.datasets.person.print_log',
                        lambda msg, **kw: logged.append(msg))
    INRIAPersonDataset(data_root=release, split='Train',
                       filter_cfg=dict(filter_empty_gt=False))
    text = '\n'.join(logged)
    assert 'Train      4         2         2       3' in text
    assert 'INRIAPersonDataset load summary (train mode' in text
    assert 'negatives: neg.lst images (no person)' in text


def _one_image_release(tmp_path, img, split='Train', neg=()):
    return make_inria_release(str(tmp_path), {split: InriaSplit(pos=[img], neg=list(neg))})


def test_unknown_labels_are_listed(tmp_path):
    img = InriaImage('crop001001.png', 100, 120, [(1, 2, 40, 100), (50, 5, 90, 110),
                                                  (10, 10, 30, 60)],
                     ['PASperson', 'PAScyclist', 'PAScyclist'])
    root = _one_image_release(tmp_path, img)
    ann = osp.join(root, 'Train', 'annotations', 'crop001001.txt')
    with pytest.raises(ValueError) as e:
        INRIAPersonDataset(data_root=root, split='Train')
    msg = str(e.value)
    assert f"unknown labels: 'PAScyclist': 2 boxes, first at {ann}:" in msg
    assert "ignore_labels=['PAScyclist']" in msg
    # listed as ignore regions, they are kept with ignore_flag=1 and counted
    ds = INRIAPersonDataset(data_root=root, split='Train', ignore_labels=['PAScyclist'])
    inst = ds.get_data_info(0)['instances']
    assert [(i['bbox'], i['ignore_flag']) for i in inst] == [
        ([1., 2., 40., 100.], 0), ([50., 5., 90., 110.], 1), ([10., 10., 30., 60.], 1)]
    assert ds.summary.groups['Train']['ignore_label'] == 2
    assert ds.summary.groups['Train']['persons'] == 1


def test_image_size_disagreeing_with_annotation(tmp_path):
    root = _one_image_release(tmp_path, InriaImage('crop001001.png', 100, 120,
                                                   [(1, 2, 40, 100)]))
    img = osp.join(root, 'Train', 'pos', 'crop001001.png')
    cv2.imwrite(img, np.zeros((120, 99, 3), np.uint8))  # one column short
    ann = osp.join(root, 'Train', 'annotations', 'crop001001.txt')
    with pytest.raises(ValueError, match=rf'{ann}:4: "Image size \(X x Y x C\)" says 100 x '
                       rf'120 but {img} is 99 x 120'):
        INRIAPersonDataset(data_root=root, split='Train')


def test_image_filename_disagreeing_with_the_list(tmp_path):
    root = _one_image_release(tmp_path, InriaImage('crop001001.png', 100, 120,
                                                   [(1, 2, 40, 100)]))
    ann = osp.join(root, 'Train', 'annotations', 'crop001001.txt')
    with open(ann, 'wb') as f:
        f.write(pascal_annotation_text('Train/pos/crop009999.png', 100, 120,
                                       [(1, 2, 40, 100)]).encode('latin-1'))
    with pytest.raises(ValueError, match=rf"{ann}: \"Image filename\" is "
                       r"'Train/pos/crop009999.png' but .* 'Train/pos/crop001001.png' "
                       r'\(pos.lst line 1\)'):
        INRIAPersonDataset(data_root=root, split='Train')


def test_missing_record_lines(tmp_path):
    root = _one_image_release(tmp_path, InriaImage('crop001001.png', 100, 120,
                                                   [(1, 2, 40, 100), (50, 5, 90, 110)]))
    ann = osp.join(root, 'Train', 'annotations', 'crop001001.txt')
    text = open(ann, encoding='latin-1').read().splitlines()
    cut = [ln for ln in text if not ln.startswith('Bounding box for object 2')]
    with open(ann, 'w', encoding='latin-1') as f:
        f.write('\n'.join(cut))
    with pytest.raises(ValueError, match=rf'{ann}:6: .*Objects \[2\] have no bounding box'):
        INRIAPersonDataset(data_root=root, split='Train')


def test_listed_image_missing_and_list_mismatch(tmp_path):
    neg = [InriaImage('00000002a.png', 64, 48), InriaImage('00000003a.jpg', 64, 48)]
    root = _one_image_release(tmp_path, InriaImage('crop001001.png', 100, 120,
                                                   [(1, 2, 40, 100)]), neg=neg)
    missing = osp.join(root, 'Train', 'neg', '00000003a.jpg')
    shutil.move(missing, missing + '.moved')
    with pytest.raises(FileNotFoundError, match=rf'Train/neg.lst:2: Train/neg/00000003a.jpg is '
                       rf'listed but {missing} does not exist'):
        INRIAPersonDataset(data_root=root, split='Train')
    shutil.move(missing + '.moved', missing)
    with open(osp.join(root, 'Train', 'annotations.lst'), 'a') as f:
        f.write('Train/annotations/crop001777.txt\n')
    with pytest.raises(ValueError, match=r"annotations.lst: does not match pos.lst: annotations "
                       r"of no listed image \['Train/annotations/crop001777.txt'\]"):
        INRIAPersonDataset(data_root=root, split='Train')


def test_bad_arguments(release):
    with pytest.raises(ValueError, match="split='test': expected 'Train' or 'Test'"):
        INRIAPersonDataset(data_root=release, split='test')
    with pytest.raises(ValueError, match="holds 'PASperson'"):
        INRIAPersonDataset(data_root=release, ignore_labels=['PASperson'])


# -- configs ---------------------------------------------------------------------------
def _cfg(name, monkeypatch, release, hda_root=None):
    monkeypatch.setenv('INRIA_ROOT', release)  # substituted when the file is read
    if hda_root:
        monkeypatch.setenv('HDA_ROOT', hda_root)
    return Config.fromfile(osp.join(ROOT, 'configs', name))


def test_dataset_base_config(release, monkeypatch):
    cfg = _cfg('_base_/datasets/inria.py', monkeypatch, release)
    test = DATASETS.build(cfg.test_dataloader.dataset)
    check_images(test, 'Test', negatives=False)
    train = DATASETS.build(cfg.train_dataloader.dataset)
    assert type(train).__name__ == 'RepeatDataset'
    check_images(train.dataset, 'Train', negatives=True)  # filter_empty_gt=False
    assert cfg.val_evaluator == [dict(type='CaltechMetric', aspect_ratio=0.41,
                                      settings=['Reasonable', 'All'])]
    assert cfg.test_evaluator == cfg.val_evaluator


def test_test_pipeline_decodes_one_sample(release, monkeypatch):
    cfg = _cfg('_base_/datasets/inria.py', monkeypatch, release)
    ds = DATASETS.build(cfg.test_dataloader.dataset)
    out = ds[0]
    sample = out['data_samples']
    w, h, boxes = expected('Test', False)['Test/pos/crop001501.png']
    assert tuple(out['inputs'].shape) == (3, 512, 512)
    assert sample.ori_shape == (h, w) and sample.img_shape == (512, 512)
    assert sample.camera == 'Test'
    np.testing.assert_allclose(sample.scale_factor, (512 / w, 512 / h), rtol=1e-6)
    # loaded after Resize, as MMDetection's test pipelines do: in the original image
    np.testing.assert_array_equal(sample.gt_instances.bboxes.numpy(),
                                  np.array(boxes, np.float32))
    # no visible boxes in INRIA: NaN, which CaltechMetric reads as "posv not set"
    assert np.isnan(sample.gt_instances.visibility.numpy()).all()


def test_train_pipeline_takes_a_negative(release, monkeypatch):
    cfg = _cfg('_base_/datasets/inria.py', monkeypatch, release)
    ds = DATASETS.build(cfg.train_dataloader.dataset).dataset
    ids = [d['img_id'] for d in infos(ds)]
    np.random.seed(0)  # the augmentation draws from NumPy's global generator
    out = ds[ids.index('Train/neg/00000003a.jpg')]
    assert tuple(out['inputs'].shape) == (3, 512, 512)
    assert len(out['data_samples'].gt_instances) == 0
    out = ds[0]
    assert len(out['data_samples'].gt_instances) >= 1  # MinIoURandomCrop keeps a person


def test_ssd512_inria_config(release, monkeypatch):
    cfg = _cfg('ssd512_inria.py', monkeypatch, release)
    assert cfg.model.bbox_head.num_classes == 1
    train = DATASETS.build(cfg.train_dataloader.dataset)
    check_images(train.dataset, 'Train', negatives=True)
    check_images(DATASETS.build(cfg.test_dataloader.dataset), 'Test', negatives=False)
    check_images(DATASETS.build(cfg.val_dataloader.dataset), 'Test', negatives=False)
    assert cfg.val_evaluator == cfg.test_evaluator == [
        dict(type='CaltechMetric', aspect_ratio=0.41, settings=['Reasonable', 'All'])]


VBB = """% vbb version=1.400000
nFrame=1 n=1
log=[ ]

-----------------------------------
lbl='person01' str=1 end=1 hide=0
pos =[4.000000 2.000000 8.000000 20.000000]
posv=[0 0 0 0]
occl=[0]
lock=[0]
"""


def _tiny_hda(root, cameras):
    """One annotated 32x24 frame per camera, vbb text and extracted frame."""
    for cam in cameras:
        ann = root / HDA_LAYOUT['ann']
        ann.mkdir(parents=True, exist_ok=True)
        (ann / f'{camera_name(cam)}.txt').write_text(VBB)
        frames = root / HDA_LAYOUT['frames'] / camera_name(cam)
        frames.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(frames / frame_filename(1)), np.full((24, 32, 3), 90, np.uint8))
    return str(root)


def test_inria_to_hda_config(release, monkeypatch, tmp_path):
    assert BENCHMARK_CAMERAS == [17, 18, 19, 40, 50, 53, 54, 56, 57, 58, 59, 60]
    hda_root = _tiny_hda(tmp_path / 'hda', BENCHMARK_CAMERAS)
    cfg = _cfg('ssd512_inria-to-hda.py', monkeypatch, release, hda_root)
    base = Config.fromfile(osp.join(ROOT, 'configs', 'ssd512_hda.py'))
    # train: INRIA Train with its negatives
    train = DATASETS.build(cfg.train_dataloader.dataset)
    check_images(train.dataset, 'Train', negatives=True)
    # validation during training: INRIA Test, Dollár's INRIA evaluation, never HDA
    check_images(DATASETS.build(cfg.val_dataloader.dataset), 'Test', negatives=False)
    assert [e['type'] for e in cfg.val_evaluator] == ['CaltechMetric']
    # test: the base's HDA side over the benchmark's cameras, every frame
    test = DATASETS.build(cfg.test_dataloader.dataset)
    assert isinstance(test, HDADataset)
    assert test.cameras == [camera_name(c) for c in BENCHMARK_CAMERAS]
    assert test.frame_step == 1 and test.test_mode and test.data_root == hda_root
    assert sorted({d['camera'] for d in infos(test)}) == sorted(test.cameras)
    assert cfg.test_evaluator == base.test_evaluator
    assert 'HDABenchmarkMetric' in [e['type'] for e in cfg.test_evaluator]
    assert cfg.test_dataloader.dataset.pipeline == base.test_dataloader.dataset.pipeline
    assert cfg.model == base.model


def test_validation_metric_scores_inria_samples(release, monkeypatch):
    """The configs' val_evaluator on INRIA Test samples: perfect detections miss nothing,
    none miss everything; the group is the split."""
    from mmdet.registry import METRICS

    from hda_plugin.evaluation.metrics.caltech_metric import CaltechMetric
    cfg = _cfg('ssd512_inria.py', monkeypatch, release)
    ds = DATASETS.build(cfg.val_dataloader.dataset)
    samples = [ds[i]['data_samples'].to_dict() for i in range(len(ds))]
    for perfect in (True, False):
        metric = METRICS.build(dict(cfg.val_evaluator[0]))
        assert isinstance(metric, CaltechMetric)
        for s in samples:
            boxes = s['gt_instances']['bboxes']
            boxes = getattr(boxes, 'tensor', boxes).numpy()  # HorizontalBoxes -> array
            n = len(boxes) if perfect else 0
            s['pred_instances'] = dict(bboxes=boxes[:n], scores=np.ones(n, np.float32),
                                       labels=np.zeros(n, np.int64))
        metric.process({}, samples)
        res = metric.compute_metrics(metric.results)
        assert metric.missing_visibility == 3  # INRIA has no visible boxes: counted
        mr = res['Reasonable/MR-2']
        assert (mr < 1e-6) if perfect else (mr == pytest.approx(1.0))
        assert 'Reasonable/MR-2_Test' in res
