"""Nothing lost on tools/infer.py's outputs: files commit only when their input completed
(or stopped at a frame defect); an interrupt, a full disk or a backend error leaves what
was there; never an output over an input; one writer per detector folder; the release's
folders refused by name; figures that cannot be wrong silently (ONNX input size, COCO ids,
thresholds, video rotation, box corners); caps on tiles and pixels.

Most cases run tools/infer.py's main with a fake backend (no model: seconds of CPU)."""
import errno
import glob
import json
import os
import os.path as osp
import re
import signal
import struct
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest
from conftest import DEMO_CFG, ROOT, run_env

from hda_plugin.fileio.alld import AllDWriter, read_alld
from hda_plugin.fileio.atomic import OutputWriteError
from hda_plugin.fileio.coco_results import coco_image_id
from hda_plugin.fileio.folder_lock import FolderInUseError
from hda_plugin.structures import Detections

sys.path.insert(0, osp.join(ROOT, 'tools'))
import infer  # noqa: E402

CAM = 17


class _Pre:
    resize = None

    def __call__(self, images):
        return list(images), [None] * len(images)


class FakeBackend:
    """Two boxes per image, the first with its corners the wrong way round (x2 < x1)."""
    name = 'fake'

    def __init__(self, fail_on_call=None, delay=0.0):
        self.preprocess, self.calls = _Pre(), 0
        self.fail_on_call, self.delay = fail_on_call, delay

    def __call__(self, inputs, samples, times):
        self.calls += 1
        time.sleep(self.delay)
        if self.calls == self.fail_on_call:
            raise RuntimeError(f'backend exploded on batch {self.calls}')
        return [Detections(np.array([[30, 40, 10, 20], [1, 2, 11, 22]], np.float32),
                           np.array([0.9, 0.5], np.float32), np.zeros(2, np.int64))
                for _ in inputs]

    def smallest_anchors(self):
        return np.array([[16.0, 16.0]])

    def pos_iou_thr(self):
        return 0.5

    def nms_iou_thr(self):
        return 0.45

    def max_per_img(self):
        return 200

    def input_size(self):
        return (320, 224)


def _fake(monkeypatch, backend=None):
    backend = backend or FakeBackend()
    monkeypatch.setattr(infer, 'build_backend', lambda *a, **k: backend)
    return backend


def _ckpt(tmp_path):
    p = tmp_path / 'fake.pth'
    p.write_bytes(b'x')
    return str(p)


def _frames(tmp_path, n=6, size=(64, 48), cam=CAM, name=None):
    d = tmp_path / (name or f'cam{cam}')
    d.mkdir(parents=True, exist_ok=True)
    rng = np.random.RandomState(0)
    for i in range(1, n + 1):
        cv2.imwrite(str(d / f'I{i:05d}.png'),
                    rng.randint(0, 255, (size[1], size[0], 3), np.uint8))
    return str(d)


def _run(tmp_path, inputs, out, *extra):
    return infer.main([DEMO_CFG, _ckpt(tmp_path), *inputs, '--out-dir', out, '--no-progress',
                       '--tile', 'off', '--batch-size', '2', *extra])


def _alld(out, name, cam=CAM):
    return osp.join(out, 'hda_detections', name, f'camera{cam}', 'Detections', 'allD.txt')


def _snapshot(det_dir):
    return {osp.relpath(p, det_dir): open(p, 'rb').read()
            for p in glob.glob(osp.join(det_dir, '**', '*'), recursive=True)
            if osp.isfile(p) and not p.endswith(('hda-ssd.json', '.lock'))}


def _parts(out):
    return glob.glob(osp.join(out, '**', '*.part*'), recursive=True)


@pytest.fixture
def complete_run(tmp_path, monkeypatch):
    """A complete run's folder: its files, bytes."""
    _fake(monkeypatch)
    imgs, out = _frames(tmp_path, 6), str(tmp_path / 'out')
    assert _run(tmp_path, [imgs], out, '--name', 'Det', '--video') == 0
    det = osp.join(out, 'hda_detections', 'Det')
    return imgs, out, det, _snapshot(det)


def test_complete_run_record_and_normalised_boxes(complete_run):
    imgs, out, det, files = complete_run
    rows = read_alld(_alld(out, 'Det'))  # the reader accepts every row: no negative width
    assert len(rows) == 12 and (rows.boxes[:, 2:] >= 0).all()
    assert rows.boxes[0].tolist() == [10.0, 20.0, 20.0, 20.0]  # (30,40,10,20) normalised
    rec = json.load(open(osp.join(det, 'hda-ssd.json')))
    entry = rec['files'][osp.join(f'camera{CAM}', 'Detections', 'allD.txt')]
    assert rec['state'] == 'complete' and entry['status'] == 'completed'
    assert entry['frames'] == 6 and entry['input'] == imgs
    assert 'videos/cam17_cam17.mp4' in '/'.join(files)


def test_backend_error_leaves_old_files_and_no_part(complete_run, tmp_path, monkeypatch,
                                                    capsys):
    imgs, out, det, before = complete_run
    _fake(monkeypatch, FakeBackend(fail_on_call=2))
    with pytest.raises(RuntimeError, match='backend exploded on batch 2'):
        _run(tmp_path, [imgs], out, '--name', 'Det', '--video')
    assert _snapshot(det) == before and not _parts(out)
    err = capsys.readouterr().err
    assert f'{imgs}: ended after 2 frames' in err and _alld(out, 'Det') in err
    rec = json.load(open(osp.join(det, 'hda-ssd.json')))
    assert rec['state'].startswith('failed: RuntimeError')


def test_disk_full_names_the_file(complete_run, tmp_path, monkeypatch):
    imgs, out, det, before = complete_run
    _fake(monkeypatch)
    calls = []

    def full(self, *a, **k):
        calls.append(1)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, 'No space left on device')
        return 0
    monkeypatch.setattr(AllDWriter, 'write', full)
    with pytest.raises(OutputWriteError) as e:
        _run(tmp_path, [imgs], out, '--name', 'Det')
    assert str(e.value).count(_alld(out, 'Det')) == 1 and 'the disk is full (ENOSPC)' in \
        str(e.value)
    assert e.value.errno == errno.ENOSPC
    assert _snapshot(det) == before and not _parts(out)


_INTERRUPTED = '''
import signal, sys, time
# Ctrl-C as in a terminal: a job started in the background by a non-interactive shell (CI
# under nohup, `cmd &`) inherits SIGINT ignored, and Python then keeps it ignored
signal.signal(signal.SIGINT, signal.default_int_handler)
sys.path.insert(0, {tools!r})
import infer
sys.path[:0] = [{tests!r}, {tests_root!r}]
from test_outputs_commit import FakeBackend
infer.build_backend = lambda *a, **k: FakeBackend(delay=0.3)
sys.exit(infer.main(sys.argv[1:]))
'''


@pytest.mark.parametrize('sig,code', [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_mid_run_leaves_the_complete_file(complete_run, tmp_path, sig, code):
    """tools/infer.py in a subprocess on 60 frames, signalled once the staged allD.txt is
    there and frames are going through: exit 130 / 143, the complete file unchanged."""
    _, out, det, before = complete_run
    long = _frames(tmp_path / 'long', 60)
    script = _INTERRUPTED.format(tools=osp.join(ROOT, 'tools'),
                                 tests=osp.dirname(osp.abspath(__file__)),
                                 tests_root=osp.join(ROOT, 'tests'))
    proc = subprocess.Popen(
        [sys.executable, '-c', script, DEMO_CFG, _ckpt(tmp_path), long, '--out-dir', out,
         '--name', 'Det', '--tile', 'off', '--batch-size', '2', '--video'],
        env=run_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not any('allD.txt.part' in p for p in _parts(out)) and time.time() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    time.sleep(1.0)  # a few batches of 0.3 s
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert _snapshot(det) == before and not _parts(out)
    assert _alld(out, 'Det') in err and 'nothing was committed' in err


def _load_lock_module():
    """folder_lock.py alone (no hda_plugin import): a helper process starts in a moment."""
    return osp.join(ROOT, 'hda_plugin', 'fileio', 'folder_lock.py')


_HOLD = '''
import importlib.util, sys, time
spec = importlib.util.spec_from_file_location('folder_lock', {path!r})
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
m.FolderLock(sys.argv[1]).acquire()
print('locked', flush=True)
time.sleep(60)
'''


def test_one_writer_per_detector_folder(tmp_path, monkeypatch):
    _fake(monkeypatch)
    imgs, out = _frames(tmp_path, 2), str(tmp_path / 'out')
    det = osp.join(out, 'hda_detections', 'Det')
    holder = subprocess.Popen([sys.executable, '-c', _HOLD.format(path=_load_lock_module()),
                               det], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == 'locked'
        with pytest.raises(FolderInUseError, match=rf'{re.escape(det)} is being written by '
                           rf'another hda-ssd run: process {holder.pid} on .*started'):
            _run(tmp_path, [imgs], out, '--name', 'Det')
        assert not osp.exists(_alld(out, 'Det'))
    finally:
        holder.kill()  # SIGKILL: its lock file stays, naming it; the lock itself goes
        holder.wait()
    assert json.load(open(osp.join(det, '.hda-ssd.lock')))['pid'] == holder.pid
    assert _run(tmp_path, [imgs], out, '--name', 'Det') == 0


def test_never_over_an_input(tmp_path, monkeypatch, complete_run):
    _, out, det, before = complete_run
    _fake(monkeypatch)
    # the reported case: INPUT out/videos/camera17.mp4 with --out-dir out --video
    vid = osp.join(out, 'videos', 'camera17.mp4')
    os.makedirs(osp.dirname(vid))
    os.link(osp.join(det, 'videos', 'cam17_cam17.mp4'), vid)
    src = open(vid, 'rb').read()
    assert _run(tmp_path, [vid], out, '--name', 'FromVideo', '--video') == 0
    assert open(vid, 'rb').read() == src  # its video is FromVideo/videos/cam17_camera17.mp4
    assert osp.isfile(osp.join(out, 'hda_detections', 'FromVideo', 'videos',
                               'cam17_camera17.mp4'))
    # an output that is the input under another name: a hard link, then a symbolic one
    target = osp.join(out, 'hda_detections', 'FromVideo', 'videos', 'cam17_camera17.mp4')
    os.remove(target)
    os.link(vid, target)
    with pytest.raises(ValueError, match=rf'{re.escape(target)} would be written over the '
                       rf'input {re.escape(vid)}'):
        _run(tmp_path, [vid], out, '--name', 'FromVideo', '--video')
    assert open(vid, 'rb').read() == src
    imgs = _frames(tmp_path / 'x', 1, cam=19)
    link_target = sorted(glob.glob(osp.join(imgs, '*.png')))[0]
    alld = _alld(out, 'Det', 19)
    os.makedirs(osp.dirname(alld))
    os.symlink(link_target, alld)
    with pytest.raises(ValueError, match=f'{re.escape(alld)} would be written over the input '
                       f'{re.escape(link_target)}'):
        _run(tmp_path, [imgs], out, '--name', 'Det')
    assert _snapshot(det) == dict(before, **{osp.relpath(alld, det): open(alld, 'rb').read()})


def test_video_names_are_unique_per_input(tmp_path):
    from hda_plugin.inference.runner import video_names
    from hda_plugin.inference.sources import open_inputs
    a, b = _frames(tmp_path / 'a', 1, cam=18), _frames(tmp_path / 'b', 1, cam=19)
    srcs = open_inputs([osp.join(a, '*.png'), osp.join(b, '*.png')])
    assert video_names(srcs) == ['cam18_cam18.mp4', 'cam19_cam19.mp4']
    # same camera and folder name (open_inputs allows one input per camera): a suffix
    srcs[1].camera, srcs[1].path = 'cam18', osp.join(str(tmp_path), 'c', 'cam18', '*.png')
    assert video_names(srcs) == ['cam18_cam18.mp4', 'cam18_cam18_2.mp4']


def test_release_folders_refused_and_marked_ground_truth(tmp_path):
    from hda_plugin.evaluation.dbeval import load_benchmark_gt
    from hda_plugin.fileio.alld import check_detector_dir
    for name in ('GtAnnotationsAll', 'AcfInria'):
        for option in ('--name', '--hda-detections'):
            with pytest.raises(ValueError, match=f'{option} {name}: .*folder of the HDA '
                               'release'):
                check_detector_dir(str(tmp_path / 'nowhere'), name, option)
    gt = tmp_path / 'hda_detections' / 'GtAnnotationsAll'
    gt.mkdir(parents=True)
    (gt / 'hda-ssd.json').write_text('{}')
    with pytest.raises(ValueError, match=f'{re.escape(str(gt))} holds hda-ssd.json'):
        load_benchmark_gt(str(tmp_path), 17)
    sys.path.insert(0, osp.join(ROOT, 'tools', 'analysis'))
    import hda_benchmark
    with pytest.raises(ValueError, match='hda-ssd wrote it'):
        hda_benchmark.main([str(tmp_path), '--detector', 'X', '--cameras', '17'])


def test_coco_ids_unique_for_any_frame_count():
    assert coco_image_id(17, 1) == 1700001 and coco_image_id(17, 99999) == 1799999
    assert coco_image_id(17, 100001) != coco_image_id(18, 1)
    ids = {coco_image_id(c, f) for c in (2, 17, 18, 60, 99999)
           for f in (1, 2, 99999, 100000, 100001, 10**6, 10**10 - 1)}
    assert len(ids) == 5 * 7
    with pytest.raises(ValueError, match='below 10'):
        coco_image_id(17, 10**10)


@pytest.mark.parametrize('args,message', [
    (['--score-thr', 'nan'], 'argument --score-thr: nan: a finite score in [0, 1]'),
    (['--score-thr', 'abc'], "argument --score-thr: 'abc': a number in [0, 1] expected"),
    (['--draw-thr', '1.5'], 'argument --draw-thr: 1.5: a finite score in [0, 1]'),
    (['--batch-size', '0'], "argument --batch-size: '0': 1 or more expected"),
    (['--tile', '1x1'], "argument --tile: '1x1': tiles of at least 16x16 pixels"),
])
def test_bad_options_are_argparse_errors(args, message, capsys):
    with pytest.raises(SystemExit):
        infer.parse_args([DEMO_CFG, 'c.pth', 'x', '--out-dir', 'o', *args])
    assert message in capsys.readouterr().err


def test_thresholds_checked_in_the_api():
    from hda_plugin.inference import InferenceRunner
    with pytest.raises(TypeError, match="--score-thr '0.5': a number in"):
        InferenceRunner(FakeBackend(), 'o', 'n', score_thr='0.5')
    with pytest.raises(ValueError, match='--draw-thr nan'):
        InferenceRunner(FakeBackend(), 'o', 'n', draw_thr=float('nan'))
    with pytest.raises(ValueError, match='--batch-size 0'):
        InferenceRunner(FakeBackend(), 'o', 'n', batch_size=0)


def test_tile_and_pixel_caps(tmp_path, monkeypatch):
    from hda_plugin.inference.tiling import TileLimitError, plan_tiles
    anchors = np.array([[16.0, 16.0]])
    t0 = time.perf_counter()
    with pytest.raises(TileLimitError, match=r'640x480 frames would be cut into 1813 tiles of '
                       r'16x16 .* limit of 256 .*--max-tiles 1813'):
        plan_tiles((16, 16), (640, 480), (320, 224), None, anchors, 0.5)
    with pytest.raises(TileLimitError, match='12000x12000 frames would be cut into 3149'):
        plan_tiles((320, 224), (12000, 12000), (320, 224), None, anchors, 0.5)
    with pytest.raises(TileLimitError, match='24231 tiles'):
        plan_tiles((16, 16), (2560, 1600), (320, 224), None, anchors, 0.5)
    assert time.perf_counter() - t0 < 5
    assert len(plan_tiles((16, 16), (640, 480), (320, 224), None, anchors, 0.5,
                          max_tiles=2000).tiles) == 1813
    # through the tool: refused at the first frame, nothing committed
    _fake(monkeypatch)
    imgs, out = _frames(tmp_path, 2, size=(640, 480)), str(tmp_path / 'out')
    with pytest.raises(TileLimitError):
        infer.main([DEMO_CFG, _ckpt(tmp_path), imgs, '--out-dir', out, '--no-progress',
                    '--tile', '16x16'])
    assert not osp.exists(_alld(out, 'ssdlite_mobilenetv2-w0.5_1xb8-1150it_synthetic-hda-cpu'))
    assert not _parts(out)
    # the pixel limit: before any model loads, naming the file
    monkeypatch.setattr(infer, 'build_backend', lambda *a, **k: pytest.fail('model loaded'))
    with pytest.raises(ValueError, match=rf'{re.escape(imgs)}/I00001.png: the first image is '
                       r'a frame of 640x480 pixels \(0.3 Mpx\), above the limit of 0.1 Mpx'):
        _run(tmp_path, [imgs], out, '--max-pixels', '0.1')


def test_one_pixel_frame_with_video(tmp_path, monkeypatch, capsys):
    _fake(monkeypatch)
    imgs, out = _frames(tmp_path, 2, size=(1, 1)), str(tmp_path / 'out')
    with pytest.raises(ValueError, match=rf'{re.escape(imgs)}: frame 1 is 1x1 '
                       'pixels; --video needs frames of at least 2x2'):
        _run(tmp_path, [imgs], out, '--name', 'Tiny', '--video')
    assert not osp.exists(_alld(out, 'Tiny')) and not _parts(out)
    assert not glob.glob(osp.join(out, '**', '*.mp4'), recursive=True)


def _rotated_mp4(path, frames):
    """A lossless .mp4 whose track header (tkhd) says: show it turned 90 degrees clockwise
    (display matrix rotation -90, as phones store portrait video)."""
    from hda_plugin.fileio.video import VideoWriter
    w = VideoWriter(path, 5.0, codec='libx264rgb', options=dict(qp='0', preset='ultrafast'))
    for f in frames:
        w.write(f)
    w.commit()
    d = bytearray(open(path, 'rb').read())
    i = d.find(b'tkhd')
    off = i + 4 + 4 + (20 if d[i + 4] == 0 else 32) + 8 + 8  # version, flags, times ... layer
    d[off:off + 36] = struct.pack('>9i', 0, 1 << 16, 0, -(1 << 16), 0, 0, 0, 0, 1 << 30)
    open(path, 'wb').write(d)


def test_video_rotation_is_applied(tmp_path):
    from hda_plugin.inference.sources import VideoSource
    rng = np.random.RandomState(1)
    frames = [rng.randint(0, 255, (32, 64, 3), np.uint8) for _ in range(2)]
    path = str(tmp_path / 'camera17.mp4')
    _rotated_mp4(path, frames)
    got = [f.image for f in VideoSource(path, 'cam17')]
    assert [g.shape for g in got] == [(64, 32, 3)] * 2
    assert all(np.array_equal(g, np.rot90(f, -1)) for g, f in zip(got, frames))


@pytest.fixture(scope='module')
def demo_onnx_640(demo_checkpoint, tmp_path_factory):
    sys.path.insert(0, osp.join(ROOT, 'tools', 'deployment'))
    import export_onnx
    out = str(tmp_path_factory.mktemp('onnx') / 'demo640.onnx')
    with pytest.raises(ValueError, match=r'--input-size 640 448: the config feeds the network '
                       r'320x224 .*Resize.scale="\(640,448\)"'):
        export_onnx.main([DEMO_CFG, demo_checkpoint, out, '--input-size', '640', '448'])
    assert not osp.exists(out)
    assert export_onnx.main([DEMO_CFG, demo_checkpoint, out, '--cfg-options',
                             'test_dataloader.dataset.pipeline.Resize.scale=(640,448)']) == 0
    return out


def test_onnx_graph_checked_against_the_config(demo_onnx_640, tmp_path):
    import onnx

    from hda_plugin.deployment import ONNX_META_KEY
    from hda_plugin.inference.backends import OnnxRuntimeBackend
    from hda_plugin.utils.config import load_config
    cfg = load_config(DEMO_CFG)
    with pytest.raises(ValueError, match=rf'{re.escape(demo_onnx_640)} was exported for a '
                       rf'640x448 input .*but {re.escape(DEMO_CFG)} feeds the network 320x224'):
        OnnxRuntimeBackend(cfg, demo_onnx_640, config=DEMO_CFG)
    # the right size, another config file's name: the settings decide, not the name
    m = onnx.load(demo_onnx_640)
    for p in m.metadata_props:
        if p.key == ONNX_META_KEY:
            d = json.loads(p.value)
            d.update(input_size=[320, 224], config='configs/other_model.py')
            p.value = json.dumps(d)
    other = str(tmp_path / 'other.onnx')
    onnx.save(m, other)
    assert OnnxRuntimeBackend(cfg, other, config=DEMO_CFG).meta.config == \
        'configs/other_model.py'


def test_png_header_bomb_refused_naming_the_file(tmp_path, monkeypatch):
    """A PNG whose IHDR says 20000x20000 (400 Mpx; Pillow's DecompressionBombError, once
    read as 'size unknown') is refused by its header, before cv2 decodes anything."""
    import zlib

    from hda_plugin.inference.sources import FrameSourceError, ImageSource
    d = tmp_path / 'cam17'
    d.mkdir()
    ihdr = struct.pack('>IIBBBBB', 20000, 20000, 8, 2, 0, 0, 0)
    bomb = (b'\x89PNG\r\n\x1a\n' + struct.pack('>I', 13) + b'IHDR' + ihdr
            + struct.pack('>I', zlib.crc32(b'IHDR' + ihdr)) + b'\0' * 64)
    (d / 'I00001.png').write_bytes(bomb)
    imread = cv2.imread
    monkeypatch.setattr(cv2, 'imread', lambda f, *a: pytest.fail(f'decoded {f}')
                        if 'cam17' in f else imread(f, *a))
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match=rf'{re.escape(str(d))}/I00001.png: the first image '
                       r'is a frame of 20000x20000 pixels \(400.0 Mpx\), above the limit'):
        ImageSource(str(d), 'cam17', [str(d / 'I00001.png')])
    # as a later frame of a folder: the input stops naming it, or --skip-bad lists it
    good = _frames(tmp_path / 'ok', 1, cam=19)
    files = [osp.join(good, 'I00001.png'), str(d / 'I00001.png')]
    src = ImageSource(str(d), 'cam17', files)
    with pytest.raises(FrameSourceError, match=r'cam17/I00001.png: frame 1 is an image of '
                       r'20000x20000 pixels'):
        list(src)
    src = ImageSource(str(d), 'cam17', files, skip_bad=True)
    assert len(list(src)) == 1 and '20000x20000' in src.skipped[0]
    assert time.perf_counter() - t0 < 5
    # a format Pillow reads (BMP) above its own bomb limit: refused naming the file
    bmp = tmp_path / 'cam18' / 'I00001.bmp'
    bmp.parent.mkdir()
    bmp.write_bytes(b'BM' + struct.pack('<IHHI', 54 + 64, 0, 0, 54)
                    + struct.pack('<IiiHHIIiiII', 40, 20000, 20000, 1, 24, 0, 0, 0, 0, 0, 0)
                    + b'\0' * 64)
    with pytest.raises(ValueError, match=rf'{re.escape(str(bmp))}: refused before decoding: '
                       r'Pillow reads its header as a decompression bomb'):
        ImageSource(str(bmp.parent), 'cam18', [str(bmp)])


def test_two_inputs_of_one_camera_refused_before_any_work(tmp_path, monkeypatch):
    """``--camera 17 a b``, or a release root plus its own camera17.seq: one allD.txt for
    two inputs (the second commit replaced the first, the COCO file kept both)."""
    monkeypatch.setattr(infer, 'build_backend', lambda *a, **k: pytest.fail('model loaded'))
    a, b = _frames(tmp_path, 2, name='a'), _frames(tmp_path, 2, name='b')
    out = str(tmp_path / 'out')
    alld = _alld(out, 'Det')
    with pytest.raises(ValueError, match=rf'{re.escape(a)} and {re.escape(b)} both write '
                       rf"cam17's allD.txt: {re.escape(alld)}; .*different --name"):
        _run(tmp_path, [a, b], out, '--name', 'Det', '--camera', '17')
    assert not osp.exists(osp.join(out, 'hda_detections', 'Det', 'hda-ssd.json'))
    # the check itself: by real path (a folder reached through a link is the same file)
    from hda_plugin.inference.runner import check_outputs
    from hda_plugin.inference.sources import open_inputs
    srcs = open_inputs([a, b], camera='17')
    os.makedirs(osp.join(out, 'hda_detections', 'Det'))
    os.symlink(osp.join(out, 'hda_detections', 'Det'), osp.join(out, 'alias'))
    other = osp.join(out, 'alias', 'camera17', 'Detections', 'allD.txt')
    with pytest.raises(ValueError, match=rf'both write .*allD.txt: {re.escape(alld)} \(as '
                       rf'{re.escape(other)}\)'):
        check_outputs([alld, other], srcs, srcs)
    check_outputs([alld, _alld(out, 'Det', 18)], srcs, srcs)
    # the runner refuses it too (an API caller without check_outputs)
    from hda_plugin.fileio.coco_results import CocoWriter
    from hda_plugin.inference import InferenceRunner
    runner = InferenceRunner(FakeBackend(), out, 'Det', tile='off', progress=False)
    coco = CocoWriter(str(tmp_path / 'c.json'))
    runner.run_source(srcs[0], coco)
    before = open(alld, 'rb').read()
    with pytest.raises(ValueError, match=rf"{re.escape(a)} and {re.escape(b)} both write "
                       "cam17's allD.txt"):
        runner.run_source(srcs[1], coco)
    coco.abort()
    assert open(alld, 'rb').read() == before


def test_coco_writer_failure_recorded_as_failed(tmp_path, monkeypatch):
    _fake(monkeypatch)
    imgs, out = _frames(tmp_path, 2), str(tmp_path / 'out')

    def broken(path):
        raise OSError(28, 'No space left on device')
    monkeypatch.setattr(infer, 'CocoWriter', broken)
    with pytest.raises(OSError, match='No space left'):
        _run(tmp_path, [imgs], out, '--name', 'Det')
    rec = json.load(open(osp.join(out, 'hda_detections', 'Det', 'hda-ssd.json')))
    assert rec['state'].startswith('failed: OSError') and 'No space left' in rec['state']
