"""hda_to_tfrecord.py -> SSDTFRecordDataset / inspect_tfrecord.py / tfrecord_to_coco.py, and a
short SSD-512 training from shards."""
import json
import os.path as osp
import re
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, run_env

from hda_plugin.datasets import HDADataset, SSDTFRecordDataset


def tool(*args, check=True):
    p = subprocess.run([sys.executable, *args], cwd=ROOT, env=run_env(), capture_output=True,
                       text=True, timeout=900)
    if check:
        assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-5000:]
    return p


@pytest.fixture(scope='module')
def voc_shards(synthetic_release, tmp_path_factory):
    out = str(tmp_path_factory.mktemp('shards'))
    tool('tools/dataset_converters/hda_to_tfrecord.py', synthetic_release, '--cameras', '17',
         '50', '--out-dir', out, '--name', 'hda_train', '--shard-size', '5', '--voc-labels')
    tool('tools/dataset_converters/hda_to_tfrecord.py', synthetic_release, '--cameras', '19',
         '--out-dir', out, '--name', 'hda_test', '--voc-labels')
    return out


def test_hda_to_tfrecord_roundtrip(voc_shards, synthetic_release):
    ds = SSDTFRecordDataset(data_root=voc_shards, file_pattern='hda_train_*.tfrecord',
                            test_mode=True)
    ref = HDADataset(data_root=synthetic_release, cameras=[17, 50], test_mode=True)
    assert len(ds) == len(ref) == 12
    assert len(ds.load_summary['labels']) == 1 and '15:person' in ds.load_summary['labels']
    for i in range(len(ds)):
        a, b = ds.get_data_info(i), ref.get_data_info(i)
        assert (a['width'], a['height']) == (b['width'], b['height'])
        np.testing.assert_allclose([x['bbox'] for x in a['instances']],
                                   [x['bbox'] for x in b['instances']], atol=0.01)
        assert [x['ignore_flag'] for x in a['instances']] == \
            [x['ignore_flag'] for x in b['instances']]


def test_inspect_flags_label_15_against_num_classes(voc_shards):
    pattern = osp.join(voc_shards, 'hda_train_*.tfrecord')
    p = tool('tools/analysis/inspect_tfrecord.py', pattern, '--num-classes', '2', check=False)
    assert p.returncode == 1
    assert 'label ids [15] are outside 1..1' in p.stdout and 'silently drops' in p.stdout
    assert 'format declared -> real: JPEG -> jpeg: 12' in p.stdout
    p = tool('tools/analysis/inspect_tfrecord.py', pattern, '--json', check=False)
    rep = json.loads(p.stdout)
    assert rep['records'] == 12 and rep['shards'] == {'hda_train_000.tfrecord': 5,
                                                      'hda_train_001.tfrecord': 5,
                                                      'hda_train_002.tfrecord': 2}
    assert list(rep['labels']) == ['15:person'] and rep['crc_errors'] == 0
    assert rep['box_height_px']['p100'] > rep['box_height_px']['p0'] > 0
    assert p.returncode == 0 and rep['problems'] == []


def test_inspect_reports_crc_error_and_goes_on(voc_shards, tmp_path):
    import shutil

    from hda_plugin.fileio.tfrecord import build_shard_index
    bad = tmp_path / 'bad_000.tfrecord'
    shutil.copy(osp.join(voc_shards, 'hda_train_000.tfrecord'), bad)
    idx = build_shard_index(str(bad))
    data = bytearray(bad.read_bytes())
    data[int(idx.offsets[2]) + int(idx.lengths[2]) // 2] ^= 0xFF
    bad.write_bytes(bytes(data))
    p = tool('tools/analysis/inspect_tfrecord.py', str(bad), '--json', check=False)
    rep = json.loads(p.stdout)
    assert p.returncode == 1 and rep['crc_errors'] == 1 and rep['records'] == 4
    assert any('record 2 at byte offset' in e for e in rep['errors'])


def test_tfrecord_to_coco(voc_shards, tmp_path):
    out = str(tmp_path / 'coco')
    tool('tools/dataset_converters/tfrecord_to_coco.py',
         osp.join(voc_shards, 'hda_test_*.tfrecord'), '--out-dir', out)
    from pycocotools.coco import COCO
    coco = COCO(osp.join(out, 'annotations.json'))
    assert len(coco.imgs) == 6 and coco.cats == {1: {'id': 1, 'name': 'person'}}
    from mmdet.datasets import CocoDataset
    ds = CocoDataset(data_root=out, ann_file='annotations.json', data_prefix=dict(img='images/'),
                     metainfo=dict(classes=('person', )), test_mode=True)
    assert len(ds) == 6 and osp.isfile(ds.get_data_info(0)['img_path'])


def test_ssd512_tfrecord_config_trains_and_evaluates(voc_shards, tmp_path):
    """configs/ssd512_hda_tfrecord.py, input shrunk to 384 px, VGG from random weights."""
    work = str(tmp_path / 'work')
    p = tool('tools/train.py', 'configs/ssd512_hda_tfrecord.py', '--work-dir', work,
             '--cfg-options', 'model.backbone.init_cfg=None',
             f'train_dataloader.dataset.dataset.data_root={voc_shards}',
             f'val_dataloader.dataset.data_root={voc_shards}',
             'val_dataloader.dataset.file_pattern=hda_test_000.tfrecord',
             'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
             'train_dataloader.persistent_workers=False', 'val_dataloader.num_workers=0',
             'val_dataloader.batch_size=2', 'val_dataloader.persistent_workers=False',
             'train_dataloader.dataset.dataset.pipeline.SSDRandomCropResize.scale=(384,384)',
             'val_dataloader.dataset.pipeline.Resize.scale=(384,384)',
             'train_cfg.max_epochs=1', 'train_dataloader.dataset.times=1',
             'optim_wrapper.optimizer.lr=0.0001', 'default_hooks.logger.interval=1')
    out = p.stdout + p.stderr
    assert re.search(r"\n +15 +'person' +person +\d+\n", out)  # mapping table printed
    assert 'Epoch(train) [1][6/6]' in out
    assert 'voc/AP50' in out and 'Epoch(val) [1][3/3]' in out
