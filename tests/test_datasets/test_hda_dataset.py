import os

import cv2
import numpy as np
import pytest

from hda_plugin.datasets import HDADataset
from hda_plugin.fileio import VbbFormatError
from hda_plugin.fileio.hda_layout import HDA_LAYOUT, camera_name, frame_filename

W, H = 100, 80

# Frame 1: person01 partly outside (clipped), crowd, zero-area box.
# Frame 2: person01 (occluded), person02 hidden (hide=1), personUnk.
# Frame 3: person01 entirely outside the frame; person03 fully inside.
VBB = """% vbb version=1.400000
nFrame=4 n=6
log=[ ]

-----------------------------------
lbl='person01' str=1 end=3 hide=0
pos =[-10.000000 10.000000 30.000000 60.000000; 20.000000 10.000000 20.000000 50.000000; 150.000000 10.000000 20.000000 50.000000]
posv=[0 0 0 0; 20 10 20 20; 0 0 0 0]
occl=[0 1 0]
lock=[0 0 0]

-----------------------------------
lbl='crowd' str=1 end=1 hide=0
pos =[50.000000 5.000000 40.000000 30.000000]
posv=[0 0 0 0]
occl=[0]
lock=[0]

-----------------------------------
lbl='person02' str=1 end=2 hide=1
pos =[5.000000 5.000000 0.000000 10.000000; 60.000000 20.000000 15.000000 40.000000]
posv=[0 0 0 0; 0 0 0 0]
occl=[0 0]
lock=[0 0]

-----------------------------------
lbl='personUnk' str=2 end=2 hide=0
pos =[70.000000 40.000000 10.000000 25.000000]
posv=[0 0 0 0]
occl=[0]
lock=[0]

-----------------------------------
lbl='person03' str=3 end=3 hide=0
pos =[10.000000 10.000000 20.000000 50.000000]
posv=[0 0 0 0]
occl=[0]
lock=[0]

-----------------------------------
lbl='person04' str=4 end=4 hide=0
pos =[30.000000 20.000000 12.000000 30.000000]
posv=[0 0 0 0]
occl=[0]
lock=[0]
"""


def make_release(root, cams=(17, ), vbb=VBB, frames=4, rev1=None):
    ann = root / HDA_LAYOUT['ann']
    ann.mkdir(parents=True, exist_ok=True)
    for cam in cams:
        (ann / f'{camera_name(cam)}.txt').write_text(vbb)
        if rev1 is not None:
            (ann / f'{camera_name(cam)}_rev1.txt').write_text(rev1)
        d = root / HDA_LAYOUT['frames'] / camera_name(cam)
        d.mkdir(parents=True, exist_ok=True)
        for f in range(1, frames + 1):
            cv2.imwrite(str(d / frame_filename(f)), np.full((H, W, 3), 100, np.uint8))
    return str(root)


def by_frame(ds):
    return {d['frame']: d for d in (ds.get_data_info(i) for i in range(len(ds)))}


def test_label_rules_clipping_and_summary(tmp_path):
    ds = HDADataset(data_root=make_release(tmp_path), cameras=[17], test_mode=True)
    assert len(ds) == 4
    fr = by_frame(ds)
    assert fr[1]['img_path'].endswith(os.path.join('hda_frames', 'cam17', 'I00001.jpg'))
    assert (fr[1]['width'], fr[1]['height'], fr[1]['img_id']) == (W, H, 'cam17_00001')
    f1 = fr[1]['instances']
    # person01 clipped at x=0 and y=70; crowd an ignore region; zero-area box dropped
    # visibility: Dollár's posv area / pos area, inf when posv is not set
    inf = float('inf')
    assert f1[0] == dict(bbox=[0.0, 10.0, 20.0, 70.0], bbox_label=0, ignore_flag=0,
                         visibility=inf)
    assert f1[1] == dict(bbox=[50.0, 5.0, 90.0, 35.0], bbox_label=0, ignore_flag=1,
                         visibility=inf)
    assert len(f1) == 2
    f2 = fr[2]['instances']
    assert [i['ignore_flag'] for i in f2] == [0, 1, 1]  # occluded kept, hidden, personUnk
    assert f2[0]['visibility'] == pytest.approx(20 * 20 / (20 * 50))  # posv 20x20 of 20x50
    f3 = fr[3]['instances']
    assert f3 == [dict(bbox=[10.0, 10.0, 30.0, 60.0], bbox_label=0, ignore_flag=0,
                       visibility=inf)]
    st = ds.load_summary['cam17']
    assert st['frames'] == 4 and st['used'] == 4
    assert st['persons'] == 4  # person01 x2, person03, person04
    assert st['ignore_crowd_unk'] == 2 and st['ignore_hidden'] == 1
    assert st['occluded'] == 1 and st['ignore_occluded'] == 0
    assert st['clipped'] == 1 and st['zero_area'] == 1 and st['outside'] == 1
    assert ds.load_summary['total']['images'] == 4
    assert ds.metainfo['classes'] == ('person', )


def test_occluded_ignore_option(tmp_path):
    ds = HDADataset(data_root=make_release(tmp_path), cameras=[17], occluded='ignore',
                    test_mode=True)
    assert [i['ignore_flag'] for i in by_frame(ds)[2]['instances']] == [1, 1, 1]
    assert ds.load_summary['cam17']['ignore_occluded'] == 1
    assert ds.load_summary['cam17']['persons'] == 3


def test_visibility_range_makes_mostly_hidden_persons_ignore_regions(tmp_path):
    # frame 2: person01 is 20x50 with a 20x20 visible part: 40 % visible
    ds = HDADataset(data_root=make_release(tmp_path), cameras=[17],
                    visibility_range=(0.65, 1.0), test_mode=True)
    assert [i['ignore_flag'] for i in by_frame(ds)[2]['instances']] == [1, 1, 1]
    st = ds.load_summary['cam17']
    assert st['ignore_visibility'] == 1 and st['persons'] == 3  # posv unset: visible
    ds = HDADataset(data_root=str(tmp_path), cameras=[17], visibility_range=(0.3, 1.0),
                    test_mode=True)
    assert ds.load_summary['cam17']['ignore_visibility'] == 0
    with pytest.raises(ValueError, match='expected \\(min, max\\) visible fraction'):
        HDADataset(data_root=str(tmp_path), cameras=[17], visibility_range=(0.65, ))


def test_frame_step_and_filter_empty_gt_counted(tmp_path):
    root = make_release(tmp_path)
    ds = HDADataset(data_root=root, cameras=[17], frame_step=2, test_mode=True)
    assert sorted(by_frame(ds)) == [1, 3]
    # train mode: every frame has a person; min_size larger than the frame drops them all
    with pytest.raises(ValueError, match=r"no image left for cameras \['cam17'\].*4 removed "
                       r'by filter_cfg'):
        HDADataset(data_root=root, cameras=[17], filter_cfg=dict(filter_empty_gt=True,
                                                                 min_size=200))


def test_filter_empty_gt_drops_frames_with_only_ignored(tmp_path):
    vbb = VBB.replace("lbl='person01' str=1 end=3 hide=0", "lbl='person01' str=1 end=3 hide=1")
    vbb = vbb.replace("lbl='person03' str=3", "lbl='crowd' str=3")
    ds = HDADataset(data_root=make_release(tmp_path, vbb=vbb), cameras=[17],
                    filter_cfg=dict(filter_empty_gt=True))
    assert sorted(by_frame(ds)) == [4]
    assert ds.load_summary['total']['filtered'] == 3


def test_cameras_select_disjoint_splits(tmp_path):
    root = make_release(tmp_path, cams=(17, 18, 60))
    train = HDADataset(data_root=root, cameras=[17, 18], test_mode=True)
    test = HDADataset(data_root=root, cameras=['cam60'], test_mode=True)
    tr = [train.get_data_info(i) for i in range(len(train))]
    te = [test.get_data_info(i) for i in range(len(test))]
    assert {d['camera'] for d in tr} == {'cam17', 'cam18'}
    assert {d['camera'] for d in te} == {'cam60'}
    assert not {d['img_path'] for d in tr} & {d['img_path'] for d in te}
    assert len(train) == 8 and len(test) == 4


def test_rev1_preferred_and_configurable(tmp_path):
    rev1 = VBB.replace('nFrame=4 n=6', 'nFrame=4 n=5').split(
        "-----------------------------------\nlbl='person04'")[0]
    root = make_release(tmp_path, rev1=rev1)
    assert HDADataset(data_root=root, cameras=[17], test_mode=True).load_summary['cam17'][
        'annotation'] == 'cam17_rev1.txt'
    ds = HDADataset(data_root=root, cameras=[17], prefer_rev1=False, test_mode=True)
    assert ds.load_summary['cam17']['annotation'] == 'cam17.txt'


def test_unknown_label_error_names_file_and_line(tmp_path):
    root = make_release(tmp_path, vbb=VBB.replace("lbl='person04'", "lbl='people'"))
    with pytest.raises(ValueError) as e:
        HDADataset(data_root=root, cameras=[17], test_mode=True)
    msg = str(e.value)
    assert 'cam17.txt:41:' in msg and "'people'" in msg and 'ignore_labels=' in msg


def test_malformed_annotation_propagates_line(tmp_path):
    root = make_release(tmp_path, vbb=VBB.replace('occl=[0 1 0]', 'occl=[0 1]'))
    with pytest.raises(VbbFormatError, match=r'cam17.txt:9: .*3 rows in occl'):
        HDADataset(data_root=root, cameras=[17], test_mode=True)


def test_missing_frames_error_or_counted_skip(tmp_path):
    root = make_release(tmp_path)
    os.remove(tmp_path / HDA_LAYOUT['frames'] / 'cam17' / 'I00003.jpg')
    with pytest.raises(FileNotFoundError, match=r'frame 3 is annotated but .*I00003.jpg'):
        HDADataset(data_root=root, cameras=[17], test_mode=True)
    ds = HDADataset(data_root=root, cameras=[17], missing_frames='skip', test_mode=True)
    assert sorted(by_frame(ds)) == [1, 2, 4] and ds.load_summary['cam17']['missing'] == 1


def test_missing_annotation_and_frames_folders(tmp_path):
    root = make_release(tmp_path)
    with pytest.raises(FileNotFoundError, match=r'No annotation for cam18.*cam17.txt'):
        HDADataset(data_root=root, cameras=[18], test_mode=True)
    (tmp_path / HDA_LAYOUT['ann'] / 'cam19.txt').write_text(VBB)
    with pytest.raises(FileNotFoundError, match=r'hda_seq_to_frames.py .* --cameras 19'):
        HDADataset(data_root=root, cameras=[19], test_mode=True)


def test_bad_options_rejected(tmp_path):
    root = make_release(tmp_path)
    with pytest.raises(ValueError, match='occluded="hide"'):
        HDADataset(data_root=root, cameras=[17], occluded='hide')
    with pytest.raises(ValueError, match='at least one camera'):
        HDADataset(data_root=root, cameras=[])
    with pytest.raises(ValueError, match='not a number'):
        HDADataset(data_root=root, cameras=['lobby'])


def test_pipeline_packs_ignored_instances(tmp_path):
    ds = HDADataset(
        data_root=make_release(tmp_path), cameras=[17], test_mode=True,
        pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations', with_bbox=True),
                  dict(type='PackDetInputs')])
    sample = ds[1]['data_samples']  # frame 2: 1 person, 2 ignore regions
    assert len(sample.gt_instances) == 1 and len(sample.ignored_instances) == 2
    assert sample.gt_instances.labels.tolist() == [0]


def test_visibility_reaches_the_data_sample(tmp_path):
    ds = HDADataset(data_root=make_release(tmp_path), cameras=[17], test_mode=True,
                    pipeline=[dict(type='LoadHDAAnnotations', with_bbox=True),
                              dict(type='PackHDADetInputs', meta_keys=('img_id', ))])
    sample = next(ds[i]['data_samples'] for i in range(len(ds))
                  if ds.get_data_info(i)['frame'] == 2)
    assert sample.gt_instances.visibility.tolist() == pytest.approx([0.4])  # person01
    assert sample.ignored_instances.visibility.tolist() == [float('inf')] * 2
    # a transform that drops boxes in between is caught, not silently misaligned
    from hda_plugin.datasets import PackHDADetInputs
    with pytest.raises(ValueError, match='dropped boxes'):
        PackHDADetInputs().transform(dict(gt_bboxes=np.zeros((2, 4), np.float32),
                                          gt_bboxes_labels=np.zeros(2, np.int64),
                                          gt_ignore_flags=np.zeros(2, bool),
                                          gt_visibility=np.zeros(3, np.float32)))
