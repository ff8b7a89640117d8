"""tools/analysis/results_table.py: Markdown and LaTeX tables with intervals from detector
folders and cross-validation summary.json files, the plot, and bad summaries."""
import json
import os
import os.path as osp
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(ROOT, 'tools', 'analysis'))
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
import hda_benchmark  # noqa: E402
import results_table as tool  # noqa: E402
from test_hda_benchmark_bootstrap import make_release  # noqa: E402


def _summary(path, runs, **extra):
    os.makedirs(osp.dirname(path), exist_ok=True)
    data = dict(folds=[[17], [60]], runs=runs, mean={}, std={}, **extra)
    with open(path, 'w') as f:
        json.dump(data, f)
    return path


def test_tables_from_folders_and_summaries(tmp_path, capsys):
    root = str(tmp_path / 'rel')
    make_release(root, seed=2, cams=(17, 60), n_frames=40)
    summ = _summary(str(tmp_path / 'cv' / 'summary.json'), [
        {'seed': s, 'detector': f'SSD_x{s}_seed{s}', 'hda/MR-2': m, 'hda/MR-2_cam17': c,
         'hda/MR-2_ci95': [m - .03, m + .04], 'hda/MR-2_ci95_cam17': [c - .05, c + .06]}
        for s, m, c in ((0, .50, .40), (1, .54, .44), (2, .52, .42))],
        bootstrap=dict(resamples=1000, ci=0.95, seed=0, block_frames=50,
                       interval='percentile (numpy linear interpolation)'))
    out = str(tmp_path / 'tables')
    det_dir = osp.join(root, 'hda_detections')
    paths = tool.main([osp.join(det_dir, 'DetB'), osp.join(det_dir, 'DetA'), '--summary',
                       summ, '--out', out, '--bootstrap', '200', '--block-frames', '5'])
    md = open(osp.join(out, 'results.md')).read()
    tex = open(osp.join(out, 'results.tex')).read()
    # the same figures and intervals as hda_benchmark.py, the first input the reference
    res, boot = hda_benchmark.main([root, '--detector', 'DetB', 'DetA', '--bootstrap', '200',
                                    '--block-frames', '5'])
    capsys.readouterr()
    lo, hi = boot.detectors['DetA'].intervals['cam60'].ci
    cell = f'{res["DetA"]["cam60"].mr2 * 100:.1f} [{lo * 100:.1f}, {hi * 100:.1f}]'
    row_a = next(r for r in md.splitlines() if r.startswith('| DetA |'))
    assert row_a.split(' | ')[1:] == [
        f'{res["DetA"]["pool"].mr2 * 100:.1f} [{boot.detectors["DetA"].intervals["pool"].ci[0] * 100:.1f}, '  # noqa: E501
        f'{boot.detectors["DetA"].intervals["pool"].ci[1] * 100:.1f}]',
        f'{res["DetA"]["cam17"].mr2 * 100:.1f} [{boot.detectors["DetA"].intervals["cam17"].ci[0] * 100:.1f}, '  # noqa: E501
        f'{boot.detectors["DetA"].intervals["cam17"].ci[1] * 100:.1f}]', cell + ' |']
    assert md.index('| DetB |') < md.index('| DetA |')
    # summary rows: mean +- sample std over seeds, the seed suffix dropped; no cam60 there
    assert '| SSD_x0 (3 seeds) | 52.0 ± 2.0 | 42.0 ± 2.0 | – |' in md
    # and each seed's pooled figure with its bootstrap interval (cross_val.py --bootstrap)
    assert '| SSD_x1_seed1 | 54.0 [51.0, 58.0] | 44.0 [39.0, 50.0] | – |' in md
    assert md.index('| SSD_x2_seed2 |') < md.index('| SSD_x0 (3 seeds) |')
    # the caption says how each kind of interval was drawn: its own, the summary's
    assert 'interval of 200 resamples of 5-frame blocks within each camera, seed 0' in md
    assert ("SSD_x0 seeds [ci95]: cross_val.py's percentile (numpy linear interpolation) "
            'interval of 1000 resamples of 50-frame blocks within each camera, seed 0') in md
    assert '| detector | pool | cam17 | cam60 |' in md
    # LaTeX: booktabs, underscores and percent signs escaped
    assert r'\toprule' in tex and r'\midrule' in tex and r'\bottomrule' in tex
    assert r'SSD\_x0 (3 seeds) & 52.0 $\pm$ 2.0 & 42.0 $\pm$ 2.0 & -- \\' in tex
    assert r'MR-2 (\%)' in tex and 'hda-benchmark' in tex
    assert tex.count('&') == 7 * 3 + 0  # 3 columns after the name in 7 rows (header too)
    # the plot of the detector folders, pool and cameras
    from PIL import Image
    for name in ('pool', 'cam17', 'cam60'):
        p = osp.join(out, f'hda_benchmark_{name}.png')
        assert p in paths
        with Image.open(p) as im:
            assert im.size[0] >= 400
    assert not [f for f in os.listdir(out) if '.part' in f]
    # a release root gives every detector folder but the ground truth
    assert tool.resolve_inputs([root])[1] == ['DetA', 'DetACopy', 'DetB']
    assert tool.resolve_inputs([det_dir])[1] == ['DetA', 'DetACopy', 'DetB']


def test_without_bootstrap_and_summary_only(tmp_path):
    root = str(tmp_path / 'rel')
    make_release(root, seed=3, cams=(17, 60), n_frames=20)
    out = str(tmp_path / 't')
    tool.main([root, '--out', out])
    md = open(osp.join(out, 'results.md')).read()
    res = hda_benchmark.main([root, '--detector', 'DetA'])
    assert f'| DetA | {res["DetA"]["pool"].mr2 * 100:.1f} |' in md and '[' not in md
    summ = _summary(str(tmp_path / 'cv' / 'summary.json'),
                    [{'seed': 0, 'detector': 'X_seed0', 'hda/MR-2': .3}])
    tool.main(['--summary', summ, '--out', out])
    md = open(osp.join(out, 'results.md')).read()
    assert '| X (1 seed) | 30.0 ± 0.0 |' in md


@pytest.mark.parametrize('content, msg', [
    ('{"folds": []}', 'no "runs" key'),
    ('{"runs": []}', '"runs" holds no run'),
    ('{"runs": [{"seed": 4, "detector": "a_seed4"}]}', r'run 1 of 1 \(seed 4\) has no "hda/MR-2"'),
    ('not json', 'not JSON'),
])
def test_bad_summary_names_file_and_what_is_missing(tmp_path, content, msg):
    p = tmp_path / 'summary.json'
    p.write_text(content)
    with pytest.raises(ValueError, match=msg) as e:
        tool.main(['--summary', str(p), '--out', str(tmp_path / 'o')])
    assert str(p) in str(e.value)
    assert not osp.exists(tmp_path / 'o' / 'results.md')


def test_bad_inputs(tmp_path):
    with pytest.raises(FileNotFoundError, match='neither a detector folder'):
        tool.main([str(tmp_path), '--out', str(tmp_path / 'o')])
    with pytest.raises(ValueError, match='nothing to tabulate'):
        tool.main(['--out', str(tmp_path / 'o')])
    a, b = str(tmp_path / 'a'), str(tmp_path / 'b')
    make_release(a, cams=(17, ), n_frames=5)
    make_release(b, cams=(17, ), n_frames=5)
    with pytest.raises(ValueError, match='from 2 releases'):
        tool.resolve_inputs([osp.join(a, 'hda_detections', 'DetA'),
                             osp.join(b, 'hda_detections', 'DetA')])
