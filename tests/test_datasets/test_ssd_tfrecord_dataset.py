import json
import os
import os.path as osp
import re
import shutil

import cv2
import numpy as np
import pytest
from tfrecord.writer import TFRecordWriter

from hda_plugin.datasets.ssd_tfrecord_dataset import SSDTFRecordDataset
from hda_plugin.fileio.tfrecord import TFRecordError, build_shard_index, load_shard_index

FIXTURE = osp.join(osp.dirname(osp.dirname(__file__)), 'fixtures', 'ssd_tf')
PIPE = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations', with_bbox=True),
        dict(type='PackDetInputs')]


def example(img, boxes_px, labels=(15, ), texts=(b'person', ), codec='.jpg', shape=None,
            difficult=None):
    """An SSD-Tensorflow-schema record (normalised by the declared shape, not clipped)."""
    h, w = img.shape[:2]
    dh, dw = (shape or (h, w))[:2]
    n = len(boxes_px)
    return {
        'image/encoded': (cv2.imencode(codec, img)[1].tobytes(), 'byte'),
        'image/format': (b'JPEG', 'byte'),
        'image/height': (dh, 'int'), 'image/width': (dw, 'int'), 'image/channels': (3, 'int'),
        'image/shape': ([dh, dw, 3], 'int'),
        'image/object/bbox/xmin': ([b[0] / dw for b in boxes_px], 'float'),
        'image/object/bbox/ymin': ([b[1] / dh for b in boxes_px], 'float'),
        'image/object/bbox/xmax': ([b[2] / dw for b in boxes_px], 'float'),
        'image/object/bbox/ymax': ([b[3] / dh for b in boxes_px], 'float'),
        'image/object/bbox/label': (list(labels) * (n // len(labels)), 'int'),
        'image/object/bbox/label_text': (list(texts) * (n // len(texts)), 'byte'),
        'image/object/bbox/difficult': (difficult or [0] * n, 'int'),
        'image/object/bbox/truncated': ([0] * n, 'int'),
    }


def write_shard(path, examples):
    w = TFRecordWriter(str(path))
    for ex in examples:
        w.write(ex)
    w.close()
    return str(path)


def img(h=40, w=60, v=90):
    return np.full((h, w, 3), v, np.uint8)


def infos(ds):
    return [ds.get_data_info(i) for i in range(len(ds))]


def test_real_tensorflow_fixture_loads_with_default_mapping(tmp_path, caplog):
    ds = SSDTFRecordDataset(data_root=FIXTURE, file_pattern='hda_train_*.tfrecord',
                            test_mode=True, index_cache_dir=str(tmp_path), pipeline=PIPE)
    truth = json.load(open(osp.join(FIXTURE, 'source_boxes.json')))['records']
    assert len(ds) == len(truth) == 5
    s = ds.load_summary
    assert s['labels'] == {'15:person': dict(target='person', boxes=sum(
        len(t['boxes']) for t in truth))}
    assert s['shape_mismatch'] == 1 and s['clipped'] == 1
    for info, t in zip(infos(ds), truth):
        assert (info['width'], info['height']) == (t['width'], t['height'])
        got = np.array([i['bbox'] for i in info['instances']])
        assert all(i['bbox_label'] == 0 and i['ignore_flag'] == 0 for i in info['instances'])
        src = np.array(t['boxes'])
        if t['record'] == 3:  # normalised by a wrong declared size: scaled, and reported
            sx, sy = t['width'] / t['declared_shape'][1], t['height'] / t['declared_shape'][0]
            src = src * [sx, sy, sx, sy]
        src = np.clip(src, 0, [t['width'], t['height']] * 2)
        np.testing.assert_allclose(got, src, atol=0.5)
    # PNG bytes labelled JPEG decode by content through the stock LoadImageFromFile
    sample = ds[2]
    assert sample['inputs'].shape[1:] == (truth[2]['height'], truth[2]['width'])
    assert len(sample['data_samples'].gt_instances) == len(truth[2]['boxes'])


def test_mapping_table_is_logged(tmp_path):
    write_shard(tmp_path / 's_000.tfrecord', [example(img(), [[1, 2, 20, 30]])])
    ds = SSDTFRecordDataset(data_root=str(tmp_path), file_pattern='s_*.tfrecord',
                            test_mode=True)
    out = ds.report
    assert 'label mapping' in out
    assert re.search(r"\n +15 +'person' +person +1\n", out), out


def test_unknown_label_error_lists_ids_and_fix(tmp_path):
    write_shard(tmp_path / 'hda_train_000.tfrecord', [
        example(img(), [[1, 2, 20, 30], [5, 5, 25, 35]], labels=(15, 9),
                texts=(b'person', b'chair'))])
    with pytest.raises(ValueError) as e:
        SSDTFRecordDataset(data_root=str(tmp_path), file_pattern='hda_train_*.tfrecord',
                           label_map={1: 'person'}, test_mode=True)
    msg = str(e.value)
    assert "id 15 text 'person': 1 boxes" in msg and "id 9 text 'chair': 1 boxes" in msg
    assert "label_map={15: 'person'}" in msg and "unknown_labels='ignore'" in msg


def test_unknown_ignore_counts_and_explicit_map(tmp_path):
    write_shard(tmp_path / 'a_000.tfrecord', [
        example(img(), [[1, 2, 20, 30], [5, 5, 25, 35]], labels=(15, 9),
                texts=(b'person', b'chair'))])
    ds = SSDTFRecordDataset(data_root=str(tmp_path), file_pattern='a_*.tfrecord',
                            unknown_labels='ignore', test_mode=True)
    assert ds.load_summary['unmapped_boxes'] == 1
    assert [len(i['instances']) for i in infos(ds)] == [1]
    ds = SSDTFRecordDataset(data_root=str(tmp_path), file_pattern='a_*.tfrecord',
                            label_map={15: 'person', 'chair': None}, test_mode=True)
    assert ds.load_summary['unmapped_boxes'] == 0
    assert ds.load_summary['labels']['9:chair'] == dict(target='', boxes=1)


def test_wrong_explicit_map_drops_everything_and_stops(tmp_path):
    """The SSD-Tensorflow failure: person stored as 15, mapped as 1, unknowns ignored."""
    write_shard(tmp_path / 'a_000.tfrecord', [example(img(), [[1, 2, 20, 30]])] * 3)
    with pytest.raises(ValueError, match='no ground truth reaches the loss'):
        SSDTFRecordDataset(data_root=str(tmp_path), file_pattern='a_*.tfrecord',
                           label_map={1: 'person'}, unknown_labels='ignore',
                           filter_cfg=dict(filter_empty_gt=True))


def test_out_of_range_clipped_degenerate_dropped_difficult_ignored(tmp_path):
    write_shard(tmp_path / 'a_000.tfrecord', [example(
        img(40, 60), [[-6, -4, 30, 20], [70, 10, 90, 30], [10, 10, 20, 30]],
        difficult=[0, 0, 1])])
    ds = SSDTFRecordDataset(data_root=str(tmp_path), file_pattern='a_*.tfrecord', test_mode=True)
    inst = infos(ds)[0]['instances']
    assert inst[0]['bbox'] == pytest.approx([0, 0, 30, 20], abs=1e-4)
    assert inst[1]['ignore_flag'] == 1 and len(inst) == 2
    s = ds.load_summary
    assert (s['clipped'], s['degenerate'], s['difficult']) == (2, 1, 1)


def _corrupt(path, pos):
    data = bytearray(open(path, 'rb').read())
    data[pos] ^= 0xFF
    open(path, 'wb').write(bytes(data))


def _entropy_coded_byte(record: bytes, jpeg: bytes) -> int:
    """Position in ``record`` of a byte inside ``jpeg``'s entropy-coded data: after the
    scan header (SOS, 0xFFDA, and its length), before the end marker, and neither 0x00 nor
    0xFF (flipped, it makes no marker). Corrupting it leaves the JPEG's header readable."""
    at = record.find(jpeg)
    assert at >= 0, 'the JPEG is not stored whole in the record'
    sos = jpeg.find(b'\xff\xda')
    scan = sos + 2 + int.from_bytes(jpeg[sos + 2:sos + 4], 'big')
    end = jpeg.rfind(b'\xff\xd9')
    assert sos > 0 and scan < end, (sos, scan, end)
    pos = next(i for i in range((scan + end) // 2, end) if jpeg[i] not in (0x00, 0xFF))
    return at + pos


def test_crc_mismatch_names_shard_and_offset(tmp_path):
    ex = example(img(), [[1, 2, 20, 30]])
    p = write_shard(tmp_path / 'a_000.tfrecord', [ex] * 3)
    idx = build_shard_index(p)
    start, length = int(idx.offsets[1]), int(idx.lengths[1])
    with open(p, 'rb') as f:
        record = f.read()[start:start + length]
    # A byte of record 1's JPEG data, found by its markers: the record's field order is not
    # fixed, and a byte in the JPEG's header segments made reading the header fail instead.
    pos = start + _entropy_coded_byte(record, ex['image/encoded'][0])
    assert start <= pos < start + length
    _corrupt(p, pos)
    with pytest.raises(TFRecordError) as e:
        SSDTFRecordDataset(data_root=str(tmp_path), file_pattern='a_*.tfrecord', test_mode=True)
    msg = str(e.value)
    assert 'a_000.tfrecord' in msg and 'record 1' in msg
    assert f'byte offset {int(idx.offsets[1]) - 12}' in msg and 'CRC mismatch' in msg
    ds = SSDTFRecordDataset(data_root=str(tmp_path), file_pattern='a_*.tfrecord',
                            verify_crc=False, test_mode=True)
    assert len(ds) == 3
    # without the CRC check the flip goes unseen: the JPEG's header still reads
    assert (ds.get_data_info(1)['height'], ds.get_data_info(1)['width']) == (40, 60)


def test_corrupt_length_field(tmp_path):
    p = write_shard(tmp_path / 'a_000.tfrecord', [example(img(), [[1, 2, 20, 30]])] * 2)
    idx = build_shard_index(p)
    _corrupt(p, int(idx.offsets[1]) - 12)
    with pytest.raises(TFRecordError, match=r'record 1 at byte offset \d+: length CRC mismatch'):
        build_shard_index(p)


def test_truncated_shard(tmp_path):
    p = write_shard(tmp_path / 'a_000.tfrecord', [example(img(), [[1, 2, 20, 30]])] * 3)
    size = os.path.getsize(p)
    with open(p, 'r+b') as f:
        f.truncate(size - 50)
    with pytest.raises(TFRecordError) as e:
        SSDTFRecordDataset(data_root=str(tmp_path), file_pattern='a_*.tfrecord', test_mode=True)
    assert 'a_000.tfrecord: record 2 at byte offset' in str(e.value)
    assert 'truncated' in str(e.value)


def test_png_labelled_jpeg_decodes(tmp_path):
    im = np.zeros((30, 50, 3), np.uint8)
    im[:, :25] = (0, 0, 255)
    write_shard(tmp_path / 'a_000.tfrecord', [example(im, [[1, 2, 20, 25]], codec='.png')])
    ds = SSDTFRecordDataset(data_root=str(tmp_path), file_pattern='a_*.tfrecord',
                            test_mode=True, pipeline=PIPE)
    x = ds[0]['inputs']  # CHW, BGR as loaded
    assert tuple(x.shape) == (3, 30, 50) and int(x[2, 0, 0]) == 255 and int(x[2, 0, 40]) == 0


def test_index_cached_and_rebuilt_when_shard_changes(tmp_path):
    p = write_shard(tmp_path / 'a_000.tfrecord', [example(img(), [[1, 2, 20, 30]])] * 2)
    idx = load_shard_index(p)
    assert osp.isfile(p + '.hdaidx.npz') and len(idx) == 2
    write_shard(tmp_path / 'a_000.tfrecord', [example(img(), [[1, 2, 20, 30]])] * 4)
    os.utime(p, ns=(1, 10**18))
    assert len(load_shard_index(p)) == 4
    # read-only shard folder: cache goes to index_cache_dir
    ro = tmp_path / 'ro'
    ro.mkdir()
    shutil.copy(p, ro / 'b_000.tfrecord')
    cache = tmp_path / 'cache'
    assert len(load_shard_index(str(ro / 'b_000.tfrecord'), str(cache))) == 4
    assert (cache / 'b_000.tfrecord.hdaidx.npz').exists()


def test_no_shard_found(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"No TFRecord shard matches .*x_\*.tfrecord"):
        SSDTFRecordDataset(data_root=str(tmp_path), file_pattern='x_*.tfrecord')


def test_iter_records_strict_and_reporting(tmp_path):
    """One framing parser: strict raises at the first problem; strict=False reports a data
    CRC mismatch and goes on, and ends at a cut header."""
    from hda_plugin.fileio.tfrecord import iter_records
    path = write_shard(tmp_path / 's.tfrecord', [example(img(), [[1, 2, 20, 30]])] * 3)
    recs = list(iter_records(path))
    assert [r.index for r in recs] == [0, 1, 2] and all(r.error is None for r in recs)
    data = bytearray(open(path, 'rb').read())
    data[recs[1].data_offset + 3] ^= 0xFF  # corrupt record 1's data
    data += b'\x01\x02\x03'  # and a cut header at the end
    open(path, 'wb').write(bytes(data))
    with pytest.raises(TFRecordError, match='record 1 at byte offset'):
        list(iter_records(path))
    got = list(iter_records(path, strict=False))
    assert [r.index for r in got] == [0, 1, 2, 3]
    assert got[1].error is not None and not got[1].error.fatal and got[1].data is None
    assert got[2].error is None and got[2].data is not None
    assert got[3].error.fatal and 'header is cut after 3 bytes' in str(got[3].error)


def test_non_finite_box_is_an_error_naming_the_record(tmp_path):
    good = example(img(), [[1, 2, 20, 30]])
    bad = example(img(), [[1, 2, 20, 30], [1, 2, 20, 30]])
    bad['image/object/bbox/ymax'] = ([30 / 40, float('nan')], 'float')
    write_shard(tmp_path / 'n_000.tfrecord', [good, bad])
    with pytest.raises(TFRecordError, match=r'n_000\.tfrecord: record 1 at byte offset \d+: '
                                            r'box 1 .*NaN or Inf is no box'):
        SSDTFRecordDataset(data_root=str(tmp_path), file_pattern='n_*.tfrecord', test_mode=True)


def test_fast_loader_reads_tfrecord_images_like_the_stock_one(tmp_path):
    """LoadImageFast (libjpeg-turbo) through the tfrecord:// backend: the same pixels as
    LoadImageFromFile, PNG-in-a-JPEG-record included; deferred, the HDA train pipeline's
    SSDRandomCropResize decodes it."""
    stock = SSDTFRecordDataset(data_root=FIXTURE, file_pattern='hda_train_*.tfrecord',
                               test_mode=True, index_cache_dir=str(tmp_path), pipeline=PIPE)
    fast = SSDTFRecordDataset(data_root=FIXTURE, file_pattern='hda_train_*.tfrecord',
                              test_mode=True, index_cache_dir=str(tmp_path),
                              pipeline=[dict(type='LoadImageFast')] + PIPE[1:])
    for i in range(len(stock)):
        assert np.array_equal(stock[i]['inputs'].numpy(), fast[i]['inputs'].numpy())
    train = SSDTFRecordDataset(
        data_root=FIXTURE, file_pattern='hda_train_*.tfrecord', test_mode=True,
        index_cache_dir=str(tmp_path),
        pipeline=[dict(type='LoadImageFast', defer_decode=True),
                  dict(type='LoadAnnotations', with_bbox=True),
                  dict(type='SSDRandomCropResize', scale=(64, 64)), dict(type='PackDetInputs')])
    assert all(tuple(train[i]['inputs'].shape) == (3, 64, 64) for i in range(len(train)))
