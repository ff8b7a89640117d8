"""tools/infer.py on a .seq, on a lossless .mp4 of the same frames and on the extracted frames;
defects in the middle of inputs; the rows scored by tools/analysis/hda_benchmark.py."""
import glob
import json
import os
import os.path as osp
import re
import shutil
import sys

import numpy as np
import pytest
from conftest import DEMO_CFG, ROOT

from hda_plugin.fileio.alld import read_alld
from hda_plugin.fileio.seq import SeqReader

sys.path.insert(0, osp.join(ROOT, 'tools'))
import infer  # noqa: E402

CAM = 17  # 640x480, 6 frames in the synthetic release


def _seq(root, cam=CAM):
    return osp.join(root, 'hda_image_sequences_matlab', f'camera{cam}.seq')


def _infer(ckpt, inputs, out, *extra):
    return infer.main([DEMO_CFG, ckpt, *inputs, '--out-dir', out, '--no-progress',
                       '--batch-size', '4', *extra])


def _rows(out, name, cam=CAM):
    return read_alld(osp.join(out, 'hda_detections', name, f'camera{cam}', 'Detections',
                              'allD.txt'))


@pytest.fixture(scope='module')
def lossless_mp4(synthetic_release, tmp_path_factory):
    """camera17.mp4: the .seq's decoded frames in lossless H.264 RGB (libx264rgb, qp 0)."""
    from hda_plugin.fileio.video import VideoWriter
    path = str(tmp_path_factory.mktemp('video') / f'camera{CAM}.mp4')
    w = VideoWriter(path, 5.0, codec='libx264rgb', options=dict(qp='0', preset='ultrafast'))
    with SeqReader(_seq(synthetic_release)) as r:
        frames = list(r)
    for f in frames:
        w.write(f)
    w.commit()
    return path, frames


def test_seq_mp4_and_frames_give_the_same_rows(synthetic_release, demo_checkpoint,
                                               lossless_mp4, tmp_path, capsys):
    out = str(tmp_path)
    mp4, frames = lossless_mp4
    from hda_plugin.inference.sources import VideoSource
    decoded = [f.image for f in VideoSource(mp4, 'cam17')]
    assert len(decoded) == len(frames) and all(np.array_equal(a, b)
                                               for a, b in zip(decoded, frames))
    img_dir = osp.join(synthetic_release, 'hda_frames', f'cam{CAM}')
    assert _infer(demo_checkpoint, [_seq(synthetic_release)], out, '--name', 'FromSeq') == 0
    text = capsys.readouterr().out
    assert _infer(demo_checkpoint, [mp4], out, '--name', 'FromMp4') == 0
    assert _infer(demo_checkpoint, [img_dir], out, '--name', 'FromFrames') == 0
    seq, vid, img = (_rows(out, n) for n in ('FromSeq', 'FromMp4', 'FromFrames'))
    assert len(seq) > 0 and set(seq.frame.tolist()) == set(range(1, 7))
    for other in (vid, img):
        assert np.array_equal(seq.frame, other.frame)
        assert np.array_equal(seq.boxes, other.boxes) and np.array_equal(seq.scores,
                                                                         other.scores)
    assert (seq.camera == CAM).all()
    # the one-screen summary: stages, frames/s, peak memory
    for key in ('decode', 'preprocess', 'model', 'nms', 'write', 'frames/s end to end',
                'peak RSS', '640x480 frames: not tiled'):
        assert key in text, key
    # the COCO-style results name the frame and hold every row
    coco = json.load(open(osp.join(out, 'hda_detections', 'FromFrames', 'coco_results.json')))
    assert len(coco) == len(img)
    assert coco[0]['file_name'].endswith('I00001.jpg') and coco[0]['image_id'] == CAM * 100000 + 1

    # hda_benchmark.py scores the rows (ground truth built from the release's vbb files)
    os.symlink(osp.join(synthetic_release, 'hda_annotations'), osp.join(out, 'hda_annotations'))
    sys.path.insert(0, osp.join(ROOT, 'tools', 'analysis'))
    import hda_benchmark
    mr_json = str(tmp_path / 'mr.json')
    res = hda_benchmark.main([out, '--detector', 'FromSeq', '--cameras', str(CAM),
                              '--json', mr_json])['FromSeq']
    pool = res['pool']
    # the summary is a record (MissRateSummary) or, in older trees, a dict
    num_images, num_gt = (getattr(pool, k) if hasattr(pool, k) else pool[k]
                          for k in ('num_images', 'num_gt'))
    assert num_images == 6 and num_gt > 0
    mr = json.load(open(mr_json))
    assert 0.0 <= mr['MR-2'] <= 1.0


def test_release_root_cameras_video_and_tiles(synthetic_release, demo_checkpoint, tmp_path,
                                              capsys):
    out = str(tmp_path)
    assert _infer(demo_checkpoint, [synthetic_release], out, '--cameras', '17', '50',
                  '--name', 'Tiled', '--tile', '320x224', '--video', '--score-thr', '0.2') == 0
    text = capsys.readouterr().out
    n_tiles = int(re.search(r'1280x800 frames: --tile 320x224: (\d+) tiles of 320x224 \+ the '
                            r'whole frame', text).group(1))
    assert n_tiles >= 16  # 1280/320 x 800/224 without overlap
    for cam, (w, h) in ((17, (640, 480)), (50, (1280, 800))):
        d = _rows(out, 'Tiled', cam)
        assert len(d) > 0 and (d.scores >= 0.2).all()
        x, y, bw, bh = d.boxes.T
        assert (x >= -0.01).all() and (y >= -0.01).all()
        assert (x + bw <= w + 0.01).all() and (y + bh <= h + 0.01).all()
    import av
    # the video of each input: <camera>_<source>.mp4 in the detector folder
    with av.open(osp.join(out, 'hda_detections', 'Tiled', 'videos',
                          'cam50_camera50.mp4')) as c:
        frames = [f.to_ndarray(format='bgr24') for f in c.decode(video=0)]
    assert len(frames) == 6 and frames[0].shape == (800, 1280, 3)


def test_tiled_frame_keeps_at_most_max_per_img_rows(demo_checkpoint, tmp_path, capsys):
    """A 2560x1600 frame under --tile auto (90 tiles + the whole frame for the demo's input,
    each pass up to max_per_img boxes): the merged frame keeps max_per_img rows, no more."""
    import cv2

    from hda_plugin.testing import render_camera
    from hda_plugin.utils.config import load_config
    max_per_img = load_config(DEMO_CFG).model.test_cfg.max_per_img
    frames, _ = render_camera(np.random.RandomState(0), 2560, 1600, 1)
    img_dir = tmp_path / 'cam60'
    img_dir.mkdir()
    cv2.imwrite(str(img_dir / 'I00001.png'), frames[0])
    out = str(tmp_path / 'out')
    assert _infer(demo_checkpoint, [str(img_dir)], out, '--name', 'Big', '--tile', 'auto') == 0
    text = capsys.readouterr().out
    assert re.search(r'2560x1600 frames: tiled: .*: (\d+) tiles of 320x224 \+ the whole frame',
                     text)
    rows = _rows(out, 'Big', cam=60)
    # random weights see "people" everywhere: 91 passes give far more boxes than the cap
    assert set(rows.frame.tolist()) == {1} and len(rows) == max_per_img
    assert (np.diff(rows.scores) <= 0).all()  # highest score first


def test_truncated_seq_writes_the_frames_before_the_defect(synthetic_release, demo_checkpoint,
                                                           tmp_path, capsys):
    seq = str(tmp_path / f'camera{CAM}.seq')
    with SeqReader(_seq(synthetic_release)) as r:
        cut = r.seek_table[4][0] + 100  # inside frame 5 (1-based)
    with open(_seq(synthetic_release), 'rb') as f:
        data = f.read(cut)
    with open(seq, 'wb') as f:
        f.write(data)
    out = str(tmp_path / 'out')
    assert _infer(demo_checkpoint, [seq], out, '--name', 'Cut') == 1
    captured = capsys.readouterr()
    assert seq in captured.err and 'Frames 5 (1-based) onwards were not read' in captured.err
    assert 'STOPPED' in captured.out
    assert sorted(set(_rows(out, 'Cut').frame.tolist())) == [1, 2, 3, 4]
    # the run record: this input stopped at frame 5, and why
    rec = json.load(open(osp.join(out, 'hda_detections', 'Cut', 'hda-ssd.json')))
    entry = rec['files'][osp.join(f'camera{CAM}', 'Detections', 'allD.txt')]
    assert rec['state'] == 'stopped' and entry['status'] == 'stopped'
    assert entry['stopped_at'] == 5 and 'Frames 5 (1-based) onwards' in entry['reason']


def test_truncated_video_names_file_and_frame(synthetic_release, demo_checkpoint, lossless_mp4,
                                              tmp_path, capsys):
    from hda_plugin.fileio.video import VideoWriter
    mp4 = str(tmp_path / f'camera{CAM}.mp4')
    # the index (moov) first, as streamed .mp4 files have it: a cut file keeps its frames
    w = VideoWriter(mp4, 5.0, codec='libx264rgb', options=dict(qp='0', preset='ultrafast'),
                    container_options=dict(movflags='faststart'))
    for f in lossless_mp4[1]:
        w.write(f)
    w.commit()
    size = osp.getsize(mp4)
    with open(mp4, 'r+b') as f:
        f.truncate(int(size * 0.6))
    out = str(tmp_path / 'out')
    assert _infer(demo_checkpoint, [mp4], out, '--name', 'CutVideo') == 1
    err = capsys.readouterr().err
    assert mp4 in err and 'frame' in err and 'truncated' in err
    frames = sorted(set(_rows(out, 'CutVideo').frame.tolist()))
    assert frames and frames == list(range(1, len(frames) + 1)) and len(frames) < 6


def test_unreadable_image_error_or_skip_bad(synthetic_release, demo_checkpoint, tmp_path,
                                            capsys):
    img_dir = tmp_path / f'cam{CAM}'
    shutil.copytree(osp.join(synthetic_release, 'hda_frames', f'cam{CAM}'), img_dir)
    bad = sorted(glob.glob(str(img_dir / '*.jpg')))[2]
    with open(bad, 'wb') as f:
        f.write(b'\xff\xd8 not a jpeg')
    out = str(tmp_path / 'out')
    assert _infer(demo_checkpoint, [str(img_dir)], out, '--name', 'Bad') == 1
    err = capsys.readouterr().err
    assert bad in err and '--skip-bad' in err
    assert _infer(demo_checkpoint, [str(img_dir)], out, '--name', 'Skip', '--skip-bad') == 0
    text = capsys.readouterr().out
    assert f'skipped (--skip-bad): {bad}' in text
    assert sorted(set(_rows(out, 'Skip').frame.tolist())) == [1, 2, 4, 5, 6]


def test_clear_errors_for_bad_arguments(synthetic_release, demo_checkpoint, tmp_path):
    out = str(tmp_path)
    plain = tmp_path / 'frames'
    plain.mkdir()
    shutil.copy(osp.join(synthetic_release, 'hda_frames', f'cam{CAM}', 'I00001.jpg'), plain)
    with pytest.raises(ValueError, match='names no camera.*--camera'):
        _infer(demo_checkpoint, [str(plain)], out)
    with pytest.raises(FileNotFoundError, match='no .seq, video'):
        _infer(demo_checkpoint, [str(tmp_path / 'nothing')], out)
    with pytest.raises(ValueError, match='both write cam17'):
        _infer(demo_checkpoint, [_seq(synthetic_release), _seq(synthetic_release)], out)
    with pytest.raises(ValueError, match='--backend onnxruntime'):
        _infer(demo_checkpoint, [_seq(synthetic_release)], out, '--backend', 'onnxruntime')
    os.makedirs(osp.join(out, 'hda_detections', 'OtherTool'))
    open(osp.join(out, 'hda_detections', 'OtherTool', 'x'), 'w').close()
    with pytest.raises(FileExistsError, match='not written by hda-ssd'):
        _infer(demo_checkpoint, [_seq(synthetic_release)], out, '--name', 'OtherTool')
    # the release's own folders, by name, even where they do not exist
    for name in ('AcfInria', 'GtAnnotationsAll', 'gtannotationsall'):
        with pytest.raises(ValueError, match='is a folder of the HDA release'):
            _infer(demo_checkpoint, [_seq(synthetic_release)], out, '--name', name)
