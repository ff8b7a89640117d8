"""CityPersonsDataset on tiny releases in the Cityscapes layout: every box, ignore region
and visibility image by image, the configs, and the bad inputs."""
import os
import os.path as osp

import pytest
from mmdet.registry import DATASETS
from mmengine.config import Config

import hda_plugin  # noqa: F401
from hda_plugin.testing.citypersons_release import (
    CityPersonsBox,
    CityPersonsImage,
    make_citypersons_release,
)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

# TINY_CITYPERSONS['val'] as the official evaluation reads it: boxes as annotated (the one
# reaching past x=256 kept whole), pedestrians regular, every other label an ignore region
VAL = {
    'frankfurt_000000_000294': ('frankfurt', [
        ([20, 30, 40, 80], 0, 18 * 45 / (20 * 50)),
        ([240, 40, 270, 100], 0, 16 * 60 / (30 * 60)),
        ([100, 20, 124, 80], 1, 1.0),  # rider
        ([150, 10, 190, 40], 1, 1.0)]),  # ignore
    'frankfurt_000000_000576': ('frankfurt', [
        ([60, 40, 76, 80], 0, 0.25),
        ([120, 70, 140, 90], 1, 1.0),  # sitting person
        ([160, 50, 220, 90], 1, 1.0)]),  # person group; the zero-width pedestrian dropped
    'munster_000001_000019': ('munster', [
        ([30, 60, 50, 90], 1, 1.0)]),  # person (other); the outside pedestrian dropped
}


def _instances(ds):
    out = {}
    for i in range(len(ds)):
        d = ds.get_data_info(i)
        assert (d['height'], d['width']) == (128, 256)
        assert d['img_path'].endswith(f'leftImg8bit/val/{d["camera"]}/{d["img_id"]}'
                                      '_leftImg8bit.png')
        out[d['img_id']] = (d['camera'], [
            (inst['bbox'], inst['ignore_flag'], pytest.approx(inst['visibility']))
            for inst in d['instances']])
        assert all(inst['bbox_label'] == 0 for inst in d['instances'])
    return out


def _expected(table):
    return {k: (city, [(box, ign, pytest.approx(vis)) for box, ign, vis in insts])
            for k, (city, insts) in table.items()}


@pytest.fixture
def release(tmp_path):
    root = str(tmp_path / 'citypersons')
    make_citypersons_release(root)
    return root


def build(root, **kw):
    return DATASETS.build(dict(type='CityPersonsDataset', data_root=root, pipeline=[], **kw))


def test_val_as_the_official_evaluation_reads_it(release):
    ds = build(release, split='val', test_mode=True)
    assert _instances(ds) == _expected(VAL)
    total = ds.summary.total()
    assert dict(total) == dict(images=3, persons=3, ignore_rider=1, ignore_sitting=1,
                               ignore_other=1, ignore_group=1, ignore_region=1,
                               ignore_custom=0, clipped=1, zero_area=1, outside=1, unpaired=0)
    assert list(ds.summary.groups) == ['frankfurt', 'munster']


def test_training_clips_boxes_to_the_image(release):
    ds = build(release, split='train')
    got = {ds.get_data_info(i)['img_id']: [(x['bbox'], x['ignore_flag'])
                                           for x in ds.get_data_info(i)['instances']]
           for i in range(len(ds))}
    assert got == {'aachen_000000_000019': [([40, 20, 70, 90], 0), ([0, 50, 20, 110], 0),
                                            ([200, 60, 220, 80], 1)],
                   'aachen_000000_000020': [([100, 30, 124, 94], 0)]}
    assert ds.summary.total()['clipped'] == 1
    # clip=False keeps it as annotated in training too
    kept = build(release, split='train', clip=False).get_data_info(0)['instances'][1]['bbox']
    assert kept == [-10, 50, 20, 110]


def test_cities_and_label_options(release):
    ds = build(release, split='val', test_mode=True, cities=['munster'])
    assert [ds.get_data_info(i)['img_id'] for i in range(len(ds))] == ['munster_000001_000019']
    # riders as persons (a rule some papers train with)
    ds = build(release, split='val', test_mode=True, person_labels=('pedestrian', 'rider'),
               ignore_labels=('sitting person', 'person (other)', 'person group', 'ignore'))
    assert [x['ignore_flag'] for x in ds.get_data_info(0)['instances']] == [0, 0, 0, 1]
    with pytest.raises(ValueError, match=r"\['rider'\] are in both"):
        build(release, person_labels=('pedestrian', 'rider'))


def test_unknown_labels_listed_with_counts_and_files(tmp_path):
    root = str(tmp_path)
    make_citypersons_release(root, {'val': [
        CityPersonsImage('bonn', 0, 1, [CityPersonsBox('pedestrian', (1, 1, 5, 9)),
                                        CityPersonsBox('cyclist', (1, 1, 5, 9))]),
        CityPersonsImage('bonn', 0, 2, [CityPersonsBox('cyclist', (1, 1, 5, 9)),
                                        CityPersonsBox('statue', (1, 1, 5, 9))])]})
    with pytest.raises(ValueError) as e:
        build(root, split='val')
    msg = str(e.value)
    assert "'cyclist': 2 boxes, first at " in msg and "'statue': 1 boxes" in msg
    assert 'bonn_000000_000001_gtBboxCityPersons.json: objects[1]' in msg
    assert 'bonn_000000_000002_gtBboxCityPersons.json: objects[1]' in msg
    assert "ignore_labels=['rider', 'sitting person', 'person (other)', 'person group', " \
           "'ignore', 'cyclist', 'statue']" in msg
    ds = build(root, split='val', ignore_labels=('ignore', 'cyclist', 'statue'))
    assert ds.summary.total()['ignore_custom'] == 3


def test_size_disagreeing_with_the_png_names_both_files(tmp_path):
    root = str(tmp_path)
    make_citypersons_release(root, {'val': [CityPersonsImage('bonn', 0, 1,
                                                             json_size=(2048, 1024))]})
    with pytest.raises(ValueError, match=r'bonn_000000_000001_gtBboxCityPersons\.json: '
                       r'imgWidth x imgHeight 2048x1024 disagrees with its image .*'
                       r'bonn_000000_000001_leftImg8bit\.png, 256x128'):
        build(root, split='val')


def test_json_errors_reach_the_user(tmp_path):
    root = str(tmp_path)
    paths = make_citypersons_release(root, {'val': [CityPersonsImage('bonn', 0, 1)]})
    ann = paths['val']['bonn_000000_000001'][1]
    with open(ann, 'w') as f:
        f.write('{"imgHeight": 128, "imgWidth": 256, "objects": [{"label": "pedestrian", '
                '"bbox": [1, 1, 5, 9]}]}')
    with pytest.raises(ValueError, match=r"gtBboxCityPersons\.json: objects\[0\]: missing "
                                         "key 'bboxVis'"):
        build(root, split='val')
    with open(ann, 'w') as f:
        f.write('{"imgHeight": 128,\n "imgWidth": 256,\n "objects": [}')
    with pytest.raises(ValueError, match=r'gtBboxCityPersons\.json:3:14: invalid JSON'):
        build(root, split='val')


def test_unpaired_files_error_or_counted(tmp_path):
    root = str(tmp_path)
    make_citypersons_release(root, {'val': [CityPersonsImage('bonn', 0, 1,
                                                             [CityPersonsBox('pedestrian',
                                                                             (1, 1, 5, 9))])]})
    make_citypersons_release(root, {'val': [CityPersonsImage('bonn', 0, 2)]}, write_json=False)
    make_citypersons_release(root, {'val': [CityPersonsImage('bonn', 0, 3)]}, write_png=False)
    with pytest.raises(FileNotFoundError) as e:
        build(root, split='val')
    assert 'leftImg8bit/val/bonn/bonn_000000_000002_leftImg8bit.png has no pair: ' in \
        str(e.value)
    assert 'gtBboxCityPersons/val/bonn/bonn_000000_000002_gtBboxCityPersons.json does not ' \
        'exist' in str(e.value)
    ds = build(root, split='val', unpaired='skip')
    assert len(ds) == 1 and ds.summary.total()['unpaired'] == 2
    os.remove(osp.join(root, 'leftImg8bit/val/bonn/bonn_000000_000002_leftImg8bit.png'))
    with pytest.raises(FileNotFoundError, match=r'gtBboxCityPersons/val/bonn/'
                       r'bonn_000000_000003_gtBboxCityPersons\.json has no pair: .*'
                       r'bonn_000000_000003_leftImg8bit\.png does not exist'):
        build(root, split='val')
    with pytest.raises(ValueError, match='unpaired='):
        build(root, unpaired='drop')


def test_filter_empty_gt_counts_images_with_only_ignore_regions(release):
    ds = build(release, split='val', filter_cfg=dict(filter_empty_gt=True, min_size=32))
    assert sorted(ds.get_data_info(i)['img_id'] for i in range(len(ds))) == [
        'frankfurt_000000_000294', 'frankfurt_000000_000576']


def _load_config(path, monkeypatch, root):
    monkeypatch.setenv('CITYPERSONS_ROOT', root + '/')
    return Config.fromfile(osp.join(ROOT, path))


def test_base_config_builds_the_val_split(release, monkeypatch):
    cfg = _load_config('configs/_base_/datasets/citypersons.py', monkeypatch, release)
    ds = DATASETS.build(cfg.test_dataloader.dataset)
    assert ds.test_mode and _instances(ds) == _expected(VAL)
    assert [e['type'] for e in cfg.test_evaluator] == ['CityPersonsMetric']
    assert cfg.citypersons_train['split'] == 'train'
    train = DATASETS.build(cfg.train_dataloader.dataset)
    assert len(train) == 2  # RepeatDataset times=1 around the two train images


def test_ssd512_config_builds_train_and_test(release, monkeypatch):
    cfg = _load_config('configs/ssd512_citypersons.py', monkeypatch, release)
    assert cfg.model.bbox_head.num_classes == 1
    assert [e['type'] for e in cfg.val_evaluator] == ['CityPersonsMetric']
    assert [e['type'] for e in cfg.test_evaluator] == ['CityPersonsMetric']
    test = DATASETS.build(cfg.test_dataloader.dataset)
    assert _instances(test) == _expected(VAL)
    train = DATASETS.build(cfg.train_dataloader.dataset)
    assert type(train.dataset).__name__ == 'CityPersonsDataset' and len(train) == 2
    sample = train[0]  # the fast SSD augmentation decodes the PNG and crops
    assert tuple(sample['inputs'].shape) == (3, 512, 512)


def test_test_pipeline_packs_persons_ignores_and_visibility(release, monkeypatch):
    cfg = _load_config('configs/_base_/datasets/citypersons.py', monkeypatch, release)
    ds = DATASETS.build(cfg.test_dataloader.dataset)
    out = ds[0]
    sample = out['data_samples']
    assert tuple(out['inputs'].shape) == (3, 512, 512)
    assert sample.ori_shape == (128, 256) and sample.img_id == 'frankfurt_000000_000294'
    assert sample.metainfo['camera'] == 'frankfurt'
    # annotations loaded after Resize: in the original image, where predictions are scored;
    # the box reaching past x=256 kept whole
    assert sample.gt_instances.bboxes.tensor.tolist() == [[20, 30, 40, 80],
                                                          [240, 40, 270, 100]]
    assert sample.gt_instances.labels.tolist() == [0, 0]
    assert sample.gt_instances.visibility.tolist() == pytest.approx([0.81, 16 / 30])
    assert sample.ignored_instances.bboxes.tensor.tolist() == [[100, 20, 124, 80],
                                                               [150, 10, 190, 40]]
