"""tools/analysis/hda_benchmark.py --bootstrap: intervals in the table and --json, paired
differences to the first detector (an identical copy: exactly [0, 0])."""
import json
import os
import os.path as osp
import shutil
import sys

import numpy as np
import pytest

from hda_plugin.fileio.alld import alld_path, write_alld
from hda_plugin.fileio.vbb import VbbAnnotation, dump_vbb

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(ROOT, 'tools', 'analysis'))
import hda_benchmark as tool  # noqa: E402


def make_release(root, seed=0, cams=(2, 17, 60), n_frames=60):
    """vbb frame counts, a ground-truth allD.txt per camera, and detectors DetA (good),
    DetB (noisier) and DetACopy (DetA's files)."""
    rng = np.random.default_rng(seed)
    for cam in cams:
        ann = osp.join(root, 'hda_annotations', f'cam{cam:02d}.txt')
        os.makedirs(osp.dirname(ann), exist_ok=True)
        with open(ann, 'w') as f:
            f.write(dump_vbb(VbbAnnotation(n_frames=n_frames, objects=[])))
        gt, det = [], {'DetA': [], 'DetB': []}
        for fr in range(1, n_frames + 1):
            for _ in range(int(rng.integers(0, 4))):
                h = float(rng.uniform(45, 200))
                w = h * 0.41
                x, y = rng.uniform(0, 600, 2)
                gt.append((fr, [x, y, w, h], 0.))
                for name, jitter, p in (('DetA', .05, .9), ('DetB', .15, .7)):
                    if rng.random() < p:
                        j = rng.normal(0, jitter, 4) * [w, h, w, h]
                        det[name].append((fr, [x + j[0], y + j[1], w + j[2], h + j[3]],
                                          float(rng.uniform(.3, 1))))
            for name in det:
                for _ in range(int(rng.integers(0, 4))):
                    h = float(rng.uniform(45, 150))
                    det[name].append((fr, [*rng.uniform(0, 600, 2), h * .41, h],
                                      float(rng.uniform(0, .8))))
        for name, rows in dict(det, GtAnnotationsAll=gt).items():
            write_alld(alld_path(root, name, cam), cam, np.array([r[0] for r in rows]),
                       np.array([r[1] for r in rows]).reshape(-1, 4),
                       np.array([r[2] for r in rows]))
    shutil.copytree(osp.join(root, 'hda_detections', 'DetA'),
                    osp.join(root, 'hda_detections', 'DetACopy'))


def test_bootstrap_json_table_and_identical_copy(tmp_path, capsys):
    root = str(tmp_path / 'rel')
    make_release(root)
    js = tmp_path / 'mr.json'
    plain = tool.main([root, '--detector', 'DetA'])
    res, boot = tool.main([root, '--detector', 'DetA', 'DetACopy', 'DetB', '--bootstrap',
                           '300', '--block-frames', '6', '--seed', '3', '--json', str(js)])
    out = capsys.readouterr().out
    got = json.load(open(js))
    # the existing keys, as before, then the intervals
    for k in ('MR-2', 'MR-2_cam17', 'MR-2_cam60'):
        assert got[k] == plain['DetA'][k.replace('MR-2_', '') if '_' in k else 'pool'].mr2
    diff_keys = {f'{k}{c}' for k in ('diff_ci95', 'beats_first') for c in ('', '_cam17',
                                                                          '_cam60')}
    assert set(got) == {'MR-2', 'MR-2_cam17', 'MR-2_cam60', 'MR-2_ci95', 'MR-2_ci95_cam17',
                        'MR-2_ci95_cam60', 'bootstrap', 'detectors', 'diff_of'} | diff_keys
    # at the top: the second detector (an identical copy) minus the first
    assert got['diff_of'] == 'DetACopy - DetA' and got['diff_ci95'] == [0.0, 0.0]
    assert {k: got[k] for k in diff_keys} == \
        {k: got['detectors']['DetACopy'][k] for k in diff_keys}
    assert got['bootstrap'] == dict(resamples=300, ci=0.95, seed=3, block_frames=6,
                                    unit=boot.settings.unit, interval=boot.settings.interval)
    for det in ('DetA', 'DetB'):
        d = got['detectors'][det]
        for k in ('', '_cam17', '_cam60'):
            lo, hi = d['MR-2_ci95' + k]
            assert lo < d['MR-2' + k] < hi, (det, k)  # the interval brackets the estimate
    copy = got['detectors']['DetACopy']
    for k in ('', '_cam17', '_cam60'):
        assert copy['diff_ci95' + k] == [0.0, 0.0] and copy['beats_first' + k] == 0.0
    b = got['detectors']['DetB']
    assert b['MR-2'] > got['MR-2'] and b['diff_ci95'][0] > 0 and b['beats_first'] < 0.05
    assert 'diff_ci95' not in got['detectors']['DetA']
    # the printed table has the interval columns
    assert 'MR-2 ci95' in out and 'diff ci95 vs first' in out and '[+0.0, +0.0] pt' in out
    assert 'bootstrap: 300 resamples of blocks of contiguous frames' in out
    # camera 02 is left out (dbEval's hdawithout2a), as without --bootstrap
    assert boot.pool == (17, 60) and list(boot.detectors['DetA'].intervals) == list(res['DetA'])
    # another seed, other resamples; the same seed, the same intervals
    again = tool.main([root, '--detector', 'DetA', '--bootstrap', '300', '--block-frames',
                       '6', '--seed', '3'])[1]
    assert again.detectors['DetA'].intervals == boot.detectors['DetA'].intervals


def test_ci_level_names_the_keys_and_bad_options(tmp_path):
    root = str(tmp_path / 'rel')
    make_release(root, seed=1, cams=(17, 60), n_frames=30)
    js = tmp_path / 'mr.json'
    tool.main([root, '--detector', 'DetA', 'DetB', '--bootstrap', '50', '--ci', '0.9',
               '--block-frames', '5', '--json', str(js)])
    got = json.load(open(js))
    assert 'MR-2_ci90' in got and 'diff_ci90' in got['detectors']['DetB']
    lo90 = got['MR-2_ci90']
    tool.main([root, '--detector', 'DetA', '--bootstrap', '50', '--ci', '0.99',
               '--block-frames', '5', '--json', str(js)])
    lo99 = json.load(open(js))['MR-2_ci99']
    assert lo99[0] <= lo90[0] and lo99[1] >= lo90[1]  # the same resamples, a wider level
    with pytest.raises(ValueError, match='interval level 95.0 is not in'):
        tool.main([root, '--detector', 'DetA', '--bootstrap', '50', '--ci', '95'])
    with pytest.raises(ValueError, match='block of 0 frames'):
        tool.main([root, '--detector', 'DetA', '--bootstrap', '50', '--block-frames', '0'])
