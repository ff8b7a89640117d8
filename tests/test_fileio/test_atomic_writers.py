"""The writers on fileio's atomic base (allD.txt, the COCO json, the .mp4): a commit gives
the final file, an abort or an exception leaves neither the final nor the staged file, and
an input that fails on its first frame leaves no staged video behind."""
import glob
import json
import os
import os.path as osp
import sys

import numpy as np
import pytest
from conftest import DEMO_CFG, ROOT

from hda_plugin.fileio.alld import AllDWriter, read_alld
from hda_plugin.fileio.atomic import AtomicWriter, atomic_open, staged_path
from hda_plugin.fileio.coco_results import CocoWriter

BOXES = np.array([[1.0, 2.0, 30.0, 70.0], [5.5, 6.0, 20.0, 50.0]])
SCORES = np.array([0.9, 0.25])


def _frame(i=0, w=64, h=48):
    img = np.zeros((h, w, 3), np.uint8)
    img[8:40, 10 + i:30 + i] = (40, 200, 90)
    return img


def _alld(path):
    w = AllDWriter(path, 'cam17')
    w.write(3, BOXES, SCORES)
    return w


def _coco(path):
    w = CocoWriter(path)
    w.write(17, 3, 'camera17.seq#3', BOXES, SCORES)
    return w


def _video(path):
    from hda_plugin.fileio.video import VideoWriter
    w = VideoWriter(path, 5.0, codec='libx264rgb', options=dict(qp='0', preset='ultrafast'))
    for i in range(3):
        w.write(_frame(i))
    return w


WRITERS = dict(alld=(_alld, 'allD.txt'), coco=(_coco, 'coco_results.json'),
               video=(_video, 'camera17.mp4'))


def _leftovers(folder):
    return sorted(f for f in os.listdir(folder) if '.part' in f)


def _check_content(kind, path):
    if kind == 'alld':
        d = read_alld(path)
        assert d.frame.tolist() == [3, 3] and np.array_equal(d.boxes, BOXES)
    elif kind == 'coco':
        rows = json.load(open(path))
        assert [r['score'] for r in rows] == SCORES.tolist()
        assert rows[0]['image_id'] == 17 * 100000 + 3 and rows[1]['bbox'] == BOXES[1].tolist()
    else:
        import av
        with av.open(path) as c:
            frames = [f.to_ndarray(format='bgr24') for f in c.decode(video=0)]
        assert len(frames) == 3 and np.array_equal(frames[2], _frame(2))


@pytest.mark.parametrize('kind', sorted(WRITERS))
def test_commit_gives_the_final_file(tmp_path, kind):
    make, name = WRITERS[kind]
    path = str(tmp_path / 'sub' / name)  # folders are created
    w = make(path)
    assert osp.isfile(w.staged) and w.staged == staged_path(path) and not osp.exists(path)
    w.commit()
    assert osp.isfile(path) and _leftovers(tmp_path / 'sub') == []
    _check_content(kind, path)
    w.commit()  # idempotent
    w.abort()  # after a commit: nothing to drop, the file stays
    assert osp.isfile(path)


@pytest.mark.parametrize('kind', sorted(WRITERS))
def test_abort_and_exception_leave_neither_file(tmp_path, kind):
    make, name = WRITERS[kind]
    path = str(tmp_path / name)
    w = make(path)
    w.abort()
    assert os.listdir(tmp_path) == []
    w.commit()  # after an abort: nothing happens
    assert os.listdir(tmp_path) == []
    with pytest.raises(RuntimeError, match='stop'):
        with make(path):
            raise RuntimeError('stop')
    assert os.listdir(tmp_path) == []
    with make(path):  # the context manager commits on success
        pass
    assert os.listdir(tmp_path) == [name]


def test_abort_keeps_the_previous_file(tmp_path):
    path = str(tmp_path / 'allD.txt')
    with _alld(path):
        pass
    before = open(path).read()
    w = AllDWriter(path, 17)
    w.write(9, BOXES[:1], SCORES[:1])
    w.abort()
    assert open(path).read() == before and _leftovers(tmp_path) == []


def test_a_failing_commit_removes_the_staged_file(tmp_path):
    class Broken(AtomicWriter):
        def __init__(self, path):
            super().__init__(path)
            self.f = open(self.staged, 'w')

        def _close_staged(self):
            self.f.close()
            raise OSError('disk full')

    path = str(tmp_path / 'x.txt')
    with pytest.raises(OSError, match='disk full'):
        Broken(path).commit()
    assert os.listdir(tmp_path) == []
    with pytest.raises(ValueError):
        with atomic_open(path, 'w') as f:
            f.write('half')
            raise ValueError
    assert os.listdir(tmp_path) == []


def test_video_without_frames_aborts_cleanly(tmp_path):
    from hda_plugin.fileio.video import VideoWriter
    w = VideoWriter(str(tmp_path / 'empty.mp4'), 5.0)
    w.abort()  # the encoder never saw a frame: closed without a flush
    assert os.listdir(tmp_path) == []


def _open_files_under(folder):
    out = []
    for fd in os.listdir('/proc/self/fd'):
        try:
            target = os.readlink(f'/proc/self/fd/{fd}')
        except OSError:
            continue
        if target.startswith(str(folder)):
            out.append(target)
    return out


@pytest.mark.skipif(not osp.isdir('/proc/self/fd'), reason='needs /proc to list open files')
def test_first_frame_failure_leaves_no_staged_video(demo_checkpoint, tmp_path, capsys,
                                                    monkeypatch):
    """tools/infer.py --video on an input whose first frame does not decode: the allD.txt is
    committed (empty, as for any defect), the video container is closed and no .part file
    stays."""
    sys.path.insert(0, osp.join(ROOT, 'tools'))
    import infer

    from hda_plugin.fileio.video import VideoWriter
    made = []
    init, abort = VideoWriter.__init__, VideoWriter.abort

    def eager_init(self, *args, **kwargs):
        init(self, *args, **kwargs)
        # PyAV creates the file at the first packet; builds that open it with the
        # container (and so a container never closed) left it behind: stage it now
        open(self.staged, 'ab').close()
        made.append(self)

    def spy_abort(self):
        self.aborted = True
        abort(self)

    monkeypatch.setattr(VideoWriter, '__init__', eager_init)
    monkeypatch.setattr(VideoWriter, 'abort', spy_abort)
    img_dir = tmp_path / 'cam17'
    img_dir.mkdir()
    (img_dir / 'I00001.jpg').write_bytes(b'\xff\xd8 not a jpeg')
    out = tmp_path / 'out'
    assert infer.main([DEMO_CFG, demo_checkpoint, str(img_dir), '--out-dir', str(out),
                       '--no-progress', '--video', '--name', 'FirstFrame']) == 1
    assert 'I00001.jpg' in capsys.readouterr().err
    everything = glob.glob(str(out / '**' / '*'), recursive=True)
    assert [f for f in everything if '.part' in f] == []
    assert not osp.exists(out / 'videos' / 'cam17.mp4')
    assert _open_files_under(out) == []
    alld = out / 'hda_detections' / 'FirstFrame' / 'camera17' / 'Detections' / 'allD.txt'
    assert osp.isfile(alld) and len(read_alld(str(alld))) == 0
    assert len(made) == 1 and made[0].done and made[0].aborted  # the container was closed
