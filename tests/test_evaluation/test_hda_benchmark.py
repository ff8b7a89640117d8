"""tools/analysis/hda_benchmark.py (protocol hda-benchmark) against the loop transcription
of dbEval.m/bbGt.m on random releases; every rule matters; bad input; allD.txt files."""
import json
import os
import os.path as osp
import sys

import numpy as np
import pytest

from hda_plugin.fileio.alld import AllDFormatError, read_alld, write_alld
from hda_plugin.fileio.vbb import VbbAnnotation, VbbObject, dump_vbb

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
import hda_reference as ref  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(ROOT, 'tools', 'analysis'))
import hda_benchmark as tool  # noqa: E402


def _write_rows(path, rows):
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        for r in rows:
            f.write(','.join(repr(float(v)) if i >= 2 else str(int(v))
                             for i, v in enumerate(r)) + '\n')


def _det_path(root, name, cam):
    return osp.join(root, 'hda_detections', name, f'camera{cam:02d}', 'Detections', 'allD.txt')


def make_release(root, rng, cams=(2, 17, 60), objects=None):
    """vbb files (frame counts; ``objects`` per camera if given), ground truth and two
    detectors' allD.txt, with rows outside 1..nFrame."""
    gt_all = {}
    for cam in cams:
        nf = int(rng.integers(15, 30))
        os.makedirs(osp.join(root, 'hda_annotations'), exist_ok=True)
        with open(osp.join(root, 'hda_annotations', f'cam{cam:02d}.txt'), 'w') as f:
            f.write(dump_vbb(VbbAnnotation(n_frames=nf, objects=(objects or {}).get(cam, []))))
        gt, dets = [], {'DetA': [], 'DetB': []}
        for fr in range(0, nf + 3):  # frame 0 and frames past nFrame are never read
            for _ in range(int(rng.integers(0, 4))):
                h = float(rng.uniform(25, 200))
                w = h * float(rng.uniform(0.3, 0.6))
                x, y = float(rng.uniform(0, 600)), float(rng.uniform(0, 300))
                gt.append([cam, fr, x, y, w, h, 0])
                for name, jitter in (('DetA', 0.08), ('DetB', 0.2)):
                    for _ in range(int(rng.integers(0, 3))):
                        j = rng.normal(0, jitter, 4) * [w, h, w, h]
                        dets[name].append([cam, fr, x + j[0], y + j[1], max(w + j[2], 1),
                                           max(h + j[3], 1), round(float(rng.uniform(.3, 1)), 2)])
            for name in dets:
                for _ in range(int(rng.integers(0, 4))):
                    h = float(rng.uniform(20, 150))
                    dets[name].append([cam, fr, float(rng.uniform(0, 600)),
                                       float(rng.uniform(0, 300)), h * 0.41, h,
                                       round(float(rng.uniform(0, .7)), 2)])
        order = rng.permutation(len(gt))  # files need not be sorted by frame
        _write_rows(_det_path(root, 'GtAnnotationsAll', cam), [gt[i] for i in order])
        for name, rows in dets.items():
            _write_rows(_det_path(root, name, cam), rows)
        gt_all[cam] = gt
    return gt_all


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_equals_dbeval_transcription_pool_and_cameras(tmp_path, seed, capsys):
    root = str(tmp_path)
    make_release(root, np.random.default_rng(seed))
    # default cameras: the release's but 02 (dbInfo('hdawithout2a'))
    res = tool.main([root, '--detector', 'DetA', 'DetB', '--json', str(tmp_path / 'm.json')])
    out = capsys.readouterr().out
    for det in ('DetA', 'DetB'):
        r = res[det]
        assert r['pool'].cameras == (17, 60)
        want = ref.db_eval(root, det, [17, 60])
        assert 0.05 < want < 0.95, 'a case where matching matters'
        assert r['pool'].mr2 == pytest.approx(want, abs=1e-6)
        for cam in (17, 60):
            assert r[f'cam{cam:02d}'].mr2 == pytest.approx(ref.db_eval(root, det, [cam]),
                                                              abs=1e-6)
    # with camera 02 (dbInfo('hda')): pool and 02 alone
    res2 = tool.main([root, '--detector', 'DetA', '--cameras', '2', '17', '60'])
    assert res2['DetA']['pool'].mr2 == pytest.approx(ref.db_eval(root, 'DetA', [2, 17, 60]),
                                                        abs=1e-6)
    assert res2['DetA']['cam02'].mr2 == pytest.approx(ref.db_eval(root, 'DetA', [2]),
                                                         abs=1e-6)
    # the json of the first detector, fractions
    js = json.load(open(tmp_path / 'm.json'))
    assert set(js) == {'MR-2', 'MR-2_cam17', 'MR-2_cam60'}
    assert js['MR-2'] == pytest.approx(res['DetA']['pool'].mr2)
    # rows dbEval never reads are counted, not dropped silently
    assert 'rows outside frames 1..' in out and 'protocol hda-benchmark' in out
    assert 'left out of the pool: cameras [2]' in out


def test_each_rule_changes_the_figure(tmp_path):
    root = str(tmp_path)
    make_release(root, np.random.default_rng(5))
    got = tool.main([root, '--detector', 'DetB'])['DetB']['pool'].mr2
    assert got == pytest.approx(ref.db_eval(root, 'DetB', [17, 60]), abs=1e-6)
    variants = dict(
        no_40px_filter=ref.db_eval(root, 'DetB', [17, 60], det_filter=False),
        no_041_resize=ref.db_eval(root, 'DetB', [17, 60], resize=False),
        with_camera_02=ref.db_eval(root, 'DetB', [2, 17, 60]))
    for rule, value in variants.items():
        assert abs(value - got) > 1e-3, f'dropping {rule} does not change the figure'


def test_plot_draws_every_detector(tmp_path):
    from PIL import Image
    root = str(tmp_path / 'rel')
    make_release(root, np.random.default_rng(3))
    tool.main([root, '--detector', 'DetA', 'DetB', '--plot', str(tmp_path / 'plots')])
    for name in ('pool', 'cam17', 'cam60'):
        with Image.open(tmp_path / 'plots' / f'hda_benchmark_{name}.png') as im:
            assert im.size[0] >= 400 and len(np.unique(np.asarray(im.convert('L')))) > 10


def test_ground_truth_built_from_vbb_when_the_release_has_none(tmp_path, capsys):
    rng = np.random.default_rng(7)
    root = str(tmp_path)
    n = 12

    def track(label, start, end, hide=0, w=40.):
        k = end - start + 1
        pos = np.stack([np.linspace(10, 300, k), np.full(k, 50.), np.full(k, w),
                        np.full(k, 100.)], 1)
        return VbbObject(label, start, end, hide, pos, np.zeros((k, 4)), np.zeros(k, int),
                         np.zeros(k, int))
    objs = {17: [track('person01', 1, 10), track('crowd', 2, 8, w=120.), track('person02', 3, 12),
                 track('personUnk', 1, 5), track('person03', 4, 6, hide=1),
                 track('person04', 5, 7, w=0.)]}
    make_release(root, rng, cams=(17, ), objects=objs)
    # replace the frame count by the objects' one and drop the ground-truth file
    with open(osp.join(root, 'hda_annotations', 'cam17.txt'), 'w') as f:
        f.write(dump_vbb(VbbAnnotation(n_frames=n, objects=objs[17])))
    os.remove(_det_path(root, 'GtAnnotationsAll', 17))
    res = tool.main([root, '--detector', 'DetA', '--cameras', '17'])
    out = capsys.readouterr().out
    assert 'not the release\'s GtAnnotationsAll' in out  # said, never silent
    # the rule: person/person<ID> objects with hide=0 and w, h > 0, every frame
    rows = [[17, f, *o.pos[f - o.start], 0] for o in objs[17]
            if o.label.startswith('person') and o.label != 'personUnk' and not o.hide
            and o.pos[0, 2] > 0 for f in range(o.start, o.end + 1)]
    assert res['DetA']['cam17'].num_gt == len(rows) == 10 + 10
    assert res['DetA']['pool'].mr2 == pytest.approx(
        ref.db_eval(root, 'DetA', [17], gt_rows={17: rows}), abs=1e-6)


@pytest.mark.parametrize('line, msg', [
    ('17,3,1,2,3,4', '7 comma-separated columns'),
    ('17,3,1,2,3,4,0.5,9', '7 comma-separated columns'),
    ('17,3,1,abc,3,4,0.5', "'abc' is not a number"),
    ('17,3,1,2,-3,4,0.5', 'w >= 0 and h >= 0'),
    ('17,3.5,1,2,3,4,0.5', 'whole camera and frame numbers'),
    ('17,3,1,2,3,nan,0.5', 'finite numbers'),
])
def test_malformed_rows_name_file_and_line(tmp_path, line, msg):
    p = tmp_path / 'allD.txt'
    p.write_text('17,1,1,2,3,4,0.9\n' + line + '\n')
    with pytest.raises(AllDFormatError) as e:
        read_alld(str(p))
    assert f'{p}:2:' in str(e.value) and msg in str(e.value)


def test_missing_camera_folder_or_vbb_names_path_and_camera(tmp_path):
    root = str(tmp_path)
    make_release(root, np.random.default_rng(1))
    os.remove(_det_path(root, 'DetA', 60))
    with pytest.raises(FileNotFoundError, match=r'cam60: no detections file .*camera60'):
        tool.main([root, '--detector', 'DetA'])
    with pytest.raises(FileNotFoundError, match=r'No detector folder .*NoSuchDet'):
        tool.main([root, '--detector', 'NoSuchDet'])
    os.remove(osp.join(root, 'hda_annotations', 'cam17.txt'))
    with pytest.raises(FileNotFoundError, match=r'No annotation for cam17: expected .*cam17\.txt'):
        tool.main([root, '--detector', 'DetB', '--cameras', '17'])


def test_alld_round_trip_is_exact(tmp_path):
    rng = np.random.default_rng(0)
    boxes = rng.uniform(0, 1000, (50, 4)).astype(np.float32).astype(np.float64)
    scores = rng.random(50).astype(np.float32).astype(np.float64)
    frames = rng.integers(1, 100, 50)
    path = str(tmp_path / 'camera17' / 'Detections' / 'allD.txt')
    write_alld(path, 17, frames, boxes, scores)
    back = read_alld(path)
    assert (back.frame == frames).all() and (back.camera == 17).all()
    assert (back.boxes == boxes).all() and (back.scores == scores).all()  # bit for bit
    assert not osp.exists(path + '.tmp')
    # what MATLAB's dlmread reads: plain numbers and commas
    assert set(open(path).read()) <= set('0123456789.,-e\n')


def test_camera_without_detections_scores_one(tmp_path):
    root = str(tmp_path)
    make_release(root, np.random.default_rng(2))
    open(_det_path(root, 'DetA', 60), 'w').close()  # the detector found nothing on cam60
    assert read_alld(_det_path(root, 'DetA', 60)).counts == dict(rows=0, blank=0)
    res = tool.main([root, '--detector', 'DetA'])['DetA']
    assert res['cam60'].mr2 == 1.0 and res['cam60'].num_dt == 0
    assert res['pool'].mr2 == pytest.approx(ref.db_eval(root, 'DetA', [17, 60]), abs=1e-6)
