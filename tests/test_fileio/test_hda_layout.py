"""The release's naming rules (hda_plugin/fileio/hda_layout.py), the one place they live."""
import pytest

from hda_plugin.fileio.hda_layout import (
    HDA_LAYOUT,
    annotated_cameras,
    annotation_path,
    benchmark_annotation_path,
    camera_dir_names,
    camera_id,
    camera_name,
    camera_of,
    frame_filename,
    hda_frame_of,
    hda_img_id,
    sample_camera,
    seq_filename,
)


@pytest.mark.parametrize('given', [17, '17', 'cam17', 'camera17', 'cam017', 'Cam17', 'CAM17',
                                   'Camera17', 'CAMERA017'])
def test_camera_ids(given):
    assert camera_id(given) == 17 and camera_name(given) == 'cam17'


def test_names_of_one_digit_cameras_and_frames():
    assert camera_name(2) == 'cam02' and seq_filename('cam2') == 'camera02.seq'
    assert camera_dir_names(2) == ['camera02', 'camera2'] and camera_dir_names(60) == ['camera60']
    assert frame_filename(7) == 'I00007.jpg' and frame_filename(7, 'png') == 'I00007.png'
    assert hda_img_id(17, 3) == 'cam17_00003'
    assert hda_frame_of(dict(img_id=hda_img_id('camera17', 3))) == (17, 3)
    assert hda_frame_of(dict(camera='cam60', frame=9)) == (60, 9)
    assert camera_of('/d/hda_frames/cam60/I00001.jpg') == 'cam60' and camera_of('x.jpg') == 'all'
    with pytest.raises(ValueError, match='not a number'):
        camera_id('left')
    for bad in ('Cam', 'cam17x', 'xcam17', 'camcam17', ' 17', '-1'):
        with pytest.raises(ValueError, match='not a number'):
            camera_id(bad)
    assert camera_id('Cam2') == 2 and camera_name(sample_camera(dict(camera='Cam17'))) == 'cam17'
    with pytest.raises(ValueError, match='not an HDADataset frame'):
        hda_frame_of(dict(img_id='img_1', img_path='img_1.jpg'))


def test_two_annotation_rules(tmp_path):
    ann = tmp_path / HDA_LAYOUT['ann']
    ann.mkdir()
    for name in ('cam17.txt', 'cam17_rev1.txt', 'cam2.txt', 'cam60.txt'):
        (ann / name).write_text('')
    # the data set prefers _rev1; the benchmark reads nFrame from camNN.txt only
    assert annotation_path(str(tmp_path), 17).endswith('cam17_rev1.txt')
    assert annotation_path(str(tmp_path), 17, prefer_rev1=False).endswith('cam17.txt')
    assert benchmark_annotation_path(str(tmp_path), 17).endswith('cam17.txt')
    assert benchmark_annotation_path(str(tmp_path), 'cam02').endswith('cam2.txt')
    assert annotated_cameras(str(tmp_path)) == [2, 17, 60]
    with pytest.raises(FileNotFoundError, match=r'cam18: expected .*cam18\.txt.*cam17\.txt'):
        benchmark_annotation_path(str(tmp_path), 18)
    with pytest.raises(FileNotFoundError, match='Check data_root'):
        annotation_path(str(tmp_path), 18)
