"""CaltechDataset on tiny releases written in the real formats (.seq + binary .vbb)."""
import os

import numpy as np
import pytest
from mmdet.registry import DATASETS
from mmengine.config import Config

import hda_plugin  # noqa: F401  (registers the data set)
from hda_plugin.datasets.transforms.loading import LoadImageFast
from hda_plugin.fileio.caltech_layout import caltech_img_id, split_frames
from hda_plugin.fileio.seq import SeqReader
from hda_plugin.fileio.vbb import VbbObject
from hda_plugin.testing.caltech_release import (
    default_tracks,
    frame_pixel,
    make_caltech_release,
)

VIDEOS = {(6, 0): 95, (6, 1): 95, (7, 0): 95, (7, 1): 95}
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IGNORE = ('people', 'person?', 'person-fa', 'ignore')


@pytest.fixture(scope='module')
def release(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('caltech'))
    return root, make_caltech_release(root, VIDEOS)


def _build(root, **kw):
    return DATASETS.build(dict(type='CaltechDataset', data_root=root, **kw))


def _expected(anns, step, first, ignore=IGNORE, drop=(), clip=False):
    """Every image's instances, computed from the annotation as written (the rules stated
    in CaltechDataset's docstring; boxes with no area inside 640x480 dropped, the others
    kept as annotated in test mode, clipped to the image in training)."""
    out = []
    for (s, v), ann in sorted(anns.items()):
        per = ann.per_frame()
        for f in split_frames(ann.n_frames, step, first):
            insts = []
            for obj, r in per[f]:
                if obj.label in drop:
                    continue
                x, y, w, h = obj.pos[r]
                x1, y1 = max(x, 0), max(y, 0)
                x2, y2 = min(x + w, 640), min(y + h, 480)
                if x2 <= x1 or y2 <= y1:
                    continue
                if not clip:
                    x1, y1, x2, y2 = x, y, x + w, y + h
                inst = dict(bbox=[x1, y1, x2, y2], bbox_label=0,
                            ignore_flag=int(obj.label in ignore))
                if obj.label == 'person':
                    pv = obj.posv[r]
                    inst['visibility'] = float('inf') if not pv.any() else \
                        pv[2] * pv[3] / (w * h)
                insts.append(inst)
            out.append((caltech_img_id(s, v, f), f'set{s:02d}/V{v:03d}', f, insts))
    return out


def _check(ds, expected):
    assert len(ds) == len(expected)
    for i, (img_id, group, f, insts) in enumerate(expected):
        info = ds.get_data_info(i)
        assert (info['img_id'], info['camera'], info['seq_frame']) == (img_id, group, f)
        assert info['img_path'].endswith(group + '.seq')
        assert (info['width'], info['height']) == (640, 480)
        got = info['instances']
        assert len(got) == len(insts), img_id
        key = lambda d: (d['ignore_flag'], d['bbox'])  # noqa: E731
        for g, e in zip(sorted(got, key=key), sorted(insts, key=key)):
            assert g['ignore_flag'] == e['ignore_flag'] and g['bbox_label'] == 0
            np.testing.assert_allclose(g['bbox'], e['bbox'])
            if 'visibility' in e:
                assert g['visibility'] == pytest.approx(e['visibility'])


def test_test_split_frames_ids_and_every_box(release):
    root, anns = release
    ds = _build(root, split='test', sets=[6, 7], test_mode=True)
    ids = [ds.get_data_info(i)['img_id'] for i in range(len(ds))]
    assert ids[:3] == ['set06_V000_I00029', 'set06_V000_I00059', 'set06_V000_I00089']
    assert len(ids) == 12  # 4 videos x frames 29, 59, 89 (0-based) of 95
    _check(ds, _expected(anns, 30, 29))
    # frame 29 (0-based) is vbb frame 30: the first person at x0 + 3 * 30
    first = anns[(6, 0)].objects[0]
    box = next(d['bbox'] for d in ds.get_data_info(0)['instances']
               if d['ignore_flag'] == 0 and d['bbox'][1] == 100.5)
    assert box[0] == first.pos[29][0] == first.pos[0][0] + 3 * 29
    t = ds.summary.total()
    assert t['images'] == 12 and t['persons'] > 0 and t['ignore_label'] > 0
    assert t['clipped'] > 0 and t['outside'] > 0 and t['occluded'] > 0


def test_train_split_every_third_frame_and_filter(release):
    root, anns = release
    ds = _build(root, sets=[6], frame_step=3, test_mode=True)
    assert [ds.get_data_info(i)['seq_frame'] for i in range(3)] == [2, 5, 8]
    _check(ds, _expected({k: a for k, a in anns.items() if k[0] == 6}, 3, 2))
    # in training, boxes reaching out of the frame are clipped to it
    train = _build(root, sets=[6], frame_step=3)
    _check(train, _expected({k: a for k, a in anns.items() if k[0] == 6}, 3, 2, clip=True))
    with pytest.raises(FileNotFoundError, match=r'set00.*absent'):
        _build(root, split='train')


def test_drop_labels_and_visibility_range(release):
    root, anns = release
    ds = _build(root, split='test', sets=[6], test_mode=True, drop_labels=('person-fa', ),
                ignore_labels=('people', 'person?', 'ignore'))
    _check(ds, _expected({k: a for k, a in anns.items() if k[0] == 6}, 30, 29,
                         drop=('person-fa', )))
    assert ds.summary.total()['dropped'] == 2  # person-fa lives on frames 1..47: index 29
    vis = _build(root, split='test', sets=[6], test_mode=True, visibility_range=(0.65, 1.0))
    t = vis.summary.total()
    assert t['ignore_vis'] == 6  # the small person: 1/4 visible on even vbb frames 30, 60, 90
    flags = [d['ignore_flag'] for d in vis.get_data_info(0)['instances'] if 'visibility' in d
             and d['visibility'] == 0.25]
    assert flags == [1]


def test_nframe_mismatch_names_both_files(tmp_path):
    make_caltech_release(str(tmp_path), {(6, 0): 40}, seq_frames={(6, 0): 41})
    with pytest.raises(ValueError, match=r'V000\.vbb: nFrame = 40, but .*V000\.seq holds 41'):
        _build(str(tmp_path), sets=[6], frame_step=30)


def test_missing_annotation_error_or_skip(tmp_path):
    make_caltech_release(str(tmp_path), {(6, 0): 40, (6, 1): 40}, annotate=[(6, 0)])
    with pytest.raises(FileNotFoundError, match=r'V001\.seq: no annotation .*V001\.vbb'):
        _build(str(tmp_path), sets=[6], frame_step=30)
    ds = _build(str(tmp_path), sets=[6], frame_step=30, missing_annotations='skip')
    assert len(ds) == 1 and ds.summary.groups['set06/V001']['no_annotation'] == 1
    assert ds.skipped_videos[0].endswith('V001.seq')


def test_unknown_labels_listed_with_file_and_frame(tmp_path):
    odd = [VbbObject('cyclist', 5, 9, 0, np.tile([1., 1, 20, 40], (5, 1)), np.zeros((5, 4)),
                     np.zeros(5, np.int64), np.zeros(5, np.int64)),
           VbbObject('dog', 2, 3, 0, np.tile([1., 1, 20, 40], (2, 1)), np.zeros((2, 4)),
                     np.zeros(2, np.int64), np.zeros(2, np.int64))]
    make_caltech_release(str(tmp_path), {(6, 0): 40, (6, 1): 40},
                         tracks={(6, 0): default_tracks(40) + odd[:1], (6, 1): odd[1:]})
    with pytest.raises(ValueError) as e:
        _build(str(tmp_path), sets=[6], frame_step=30)
    msg = str(e.value)
    assert "'cyclist': 1 tracks, first at " in msg and 'V000.vbb frame 4 (0-based)' in msg
    assert "'dog': 1 tracks, first at " in msg and 'V001.vbb frame 1 (0-based)' in msg
    assert "ignore_labels=['people', 'person?', 'person-fa', 'ignore', 'cyclist', 'dog']" in msg


def test_image_size_disagrees(tmp_path):
    make_caltech_release(str(tmp_path), {(6, 0): 31}, size=(320, 240))
    with pytest.raises(ValueError, match=r'V000\.seq: frames are 320x240 .*640x480'):
        _build(str(tmp_path), sets=[6], frame_step=30)


def test_text_annotations_read_alike(tmp_path, release):
    anns = make_caltech_release(str(tmp_path), {(6, 0): 95}, vbb_format='text')
    ds = _build(str(tmp_path), split='test', sets=[6], test_mode=True)
    assert ds.get_data_info(0)['instances'] == _build(
        release[0], split='test', sets=[6], test_mode=True).get_data_info(0)['instances']
    _check(ds, _expected(anns, 30, 29))


def test_load_image_fast_reads_seq_frames(release):
    root, _ = release
    ds = _build(root, split='test', sets=[6], test_mode=True)
    load, deferred = LoadImageFast(), LoadImageFast(defer_decode=True)
    for i in range(len(ds)):  # a dataloader-like loop over every frame
        info = ds.get_data_info(i)
        got = load(dict(info))['img']
        with SeqReader(info['img_path']) as r:
            np.testing.assert_array_equal(got, r.read(info['seq_frame']))
        assert abs(int(got[0, 0, 0]) - frame_pixel(info['seq_frame'])) <= 2
        d = deferred(dict(info))
        assert 'img' not in d and d['img_shape'] == (480, 640) and d['img_bytes'][:2] == \
            b'\xff\xd8'
    # a forked worker opens its own reader (cache keyed by pid)
    from hda_plugin.datasets.transforms import loading
    assert all(k[0] == os.getpid() for k in loading._SEQ_READERS)
    assert any(k[1].endswith('V000.seq') for k in loading._SEQ_READERS)


def test_base_config_builds_exact_test_split(release, monkeypatch):
    root, anns = release
    monkeypatch.setenv('CALTECH_ROOT', root)
    cfg = Config.fromfile(os.path.join(REPO, 'configs/_base_/datasets/caltech.py'))
    test = dict(cfg.test_dataloader.dataset, sets=[6, 7])  # the tiny release has no set08-10
    ds = DATASETS.build(test)
    _check(ds, _expected(anns, 30, 29, ignore=('people', 'person?', 'ignore'),
                         drop=('person-fa', )))
    assert ds.summary.total()['dropped'] > 0
    sample = ds[0]  # the config's test pipeline: decoded and resized
    assert tuple(sample['inputs'].shape) == (3, 512, 512)
    meta = sample['data_samples'].metainfo
    assert meta['ori_shape'] == (480, 640) and meta['img_id'] == 'set06_V000_I00029'
    assert meta['camera'] == 'set06/V000'
    n_person = sum(1 for d in ds.get_data_info(0)['instances'] if not d['ignore_flag'])
    assert len(sample['data_samples'].gt_instances) == n_person
    assert cfg.test_evaluator[0]['bounds'] == (5, 5, 635, 475)


def test_model_config_train_and_test_build(release, monkeypatch):
    root, _ = release
    monkeypatch.setenv('CALTECH_ROOT', root)
    cfg = Config.fromfile(os.path.join(REPO, 'configs/ssd512_caltech.py'))
    train = cfg.train_dataloader.dataset
    train.dataset.sets = [6, 7]  # the tiny release stands in for set00-05
    ds = DATASETS.build(train)
    assert len(ds) > 0 and ds.dataset.frame_step == 3
    out = ds[0]  # the fast SSD train pipeline on a .seq frame
    assert tuple(out['inputs'].shape) == (3, 512, 512)
    test = DATASETS.build(dict(cfg.test_dataloader.dataset, sets=[6]))
    assert len(test) == 6 and test[0]['data_samples'].img_id == 'set06_V000_I00029'
    assert [m['type'] for m in cfg.test_evaluator] == ['CaltechMetric']


def test_metric_bounds_make_border_persons_ignore_regions():
    """dbEval's bnds = [5 5 635 475]: a person not wholly inside is an ignore region."""
    from hda_plugin.evaluation.metrics.caltech_metric import CaltechMetric
    gts = [[2., 10., 42., 110.], [100., 10., 140., 110.], [600., 10., 636., 110.]]
    det = [[2., 10., 42., 110.]]
    plain = CaltechMetric(settings=['Reasonable'])
    bounded = CaltechMetric(settings=['Reasonable'], bounds=(5, 5, 635, 475))
    a = plain.evaluate_image(det, [0.9], gts, [], setting='Reasonable', visibility=[1, 1, 1])
    b = bounded.evaluate_image(det, [0.9], gts, [], setting='Reasonable',
                               visibility=[1, 1, 1])
    assert a.num_gt == 3 and list(a.gt_match) == [1, 0, 0] and list(a.dt_match) == [1]
    assert b.num_gt == 1 and list(b.gt_match) == [-1, 0, -1] and list(b.dt_match) == [-1]
    with pytest.raises(ValueError, match='bounds'):
        CaltechMetric(bounds=(5, 5, 635))
