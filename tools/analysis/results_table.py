"""Markdown and LaTeX tables of the HDA benchmark's MR-2, detectors x (pool, each camera),
with bootstrap intervals, and the benchmark's plot of every detector.

    python tools/analysis/results_table.py HDA_ROOT/hda_detections/SSD512 \
        HDA_ROOT/hda_detections/AcfInria [HDA_ROOT/hda_detections | HDA_ROOT] \
        [--summary work_dirs/cv/summary.json ...] --out tables/ \
        [--bootstrap 1000 [--ci 0.95] [--seed 0] [--block-frames 50]] [--cameras ...] [--gt ...]

Inputs: detector folders (``.../hda_detections/NAME``, ``cameraNN/Detections/allD.txt``
inside), or a ``hda_detections`` folder or release root (every detector folder in it
but the ground truth's), all of one release; they are scored as
``tools/analysis/hda_benchmark.py`` scores them (the first is the reference of the
paired comparisons). ``--summary``: cross-validation ``summary.json`` files
(``tools/cross_val.py``), a row each, ``mean +- std`` over its seeds' runs.

Writes ``--out/results.md``, ``results.tex`` (booktabs) and ``hda_benchmark_*.png`` (miss
rate against FPPI, every detector folder; a summary has no curves), each atomically.
"""
import argparse
import json
import os
import os.path as osp
import re
import sys
from collections import OrderedDict

import numpy as np

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
import hda_benchmark  # noqa: E402

from hda_plugin.evaluation.bootstrap import ci_key  # noqa: E402
from hda_plugin.evaluation.dbeval import score_detectors  # noqa: E402
from hda_plugin.evaluation.protocols import HDA_BENCHMARK  # noqa: E402
from hda_plugin.fileio.atomic import write_atomic  # noqa: E402
from hda_plugin.fileio.hda_layout import HDA_LAYOUT, camera_dir_names  # noqa: E402

_SEED_SUFFIX = re.compile(r'_seed\d+$')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('inputs', nargs='*',
                   help='detector folders, hda_detections folders or release roots')
    p.add_argument('--summary', nargs='+', default=[],
                   help='cross-validation summary.json files (tools/cross_val.py)')
    p.add_argument('--out', required=True, help='folder for results.md, results.tex, plots')
    p.add_argument('--cameras', nargs='+', help='cameras to pool (default: all but 02)')
    p.add_argument('--gt', default=HDA_BENCHMARK['gt'],
                   help='ground-truth folder under hda_detections/ (default %(default)s)')
    hda_benchmark.add_bootstrap_args(p)
    return p.parse_args(argv)


def _is_detector_dir(path):
    return any(osp.isfile(osp.join(path, name, 'Detections', 'allD.txt'))
               for name in os.listdir(path) if re.match(r'^cam(era)?\d+$', name)) \
        if osp.isdir(path) else False


def resolve_inputs(paths, gt=HDA_BENCHMARK['gt']):
    """``(release root, detector names)`` of the positional inputs; one release only."""
    roots, names = OrderedDict(), []
    for path in paths:
        path = osp.normpath(osp.abspath(path))
        if _is_detector_dir(path):
            det_root, found = osp.dirname(path), [osp.basename(path)]
        else:
            det_root = path if osp.basename(path) == HDA_LAYOUT['detections'] else \
                osp.join(path, HDA_LAYOUT['detections'])
            found = sorted(n for n in os.listdir(det_root)
                           if n != gt and _is_detector_dir(osp.join(det_root, n))) \
                if osp.isdir(det_root) else []
            if not found:
                raise FileNotFoundError(
                    f'{path}: neither a detector folder (cameraNN/Detections/allD.txt, e.g. '
                    f'{camera_dir_names(17)[0]}/Detections/allD.txt) nor a '
                    f'{HDA_LAYOUT["detections"]} folder or release root holding one (the '
                    f'ground truth {gt} aside).')
        if osp.basename(det_root) != HDA_LAYOUT['detections']:
            raise ValueError(f'{path}: a detector folder must sit in the release\'s '
                             f'{HDA_LAYOUT["detections"]}/ (ground truth and frame counts '
                             'come from the release root above it).')
        roots[osp.dirname(det_root)] = path
        names += [n for n in found if n not in names]
    if len(roots) > 1:
        raise ValueError(f'inputs from {len(roots)} releases ({", ".join(roots)}): detectors '
                         'are compared on the same frames; run once per release.')
    return (next(iter(roots)) if roots else None), names


_CI_KEY = re.compile(r'hda/MR-2_(ci[\d.]+)(?:_(cam\d+))?')


def load_summary(path):
    """``(row name, {group: [values over runs]}, number of runs, each run's row, the
    resampling settings of its intervals or None)`` of a cross-validation summary.json; a
    clear error naming the file and what is missing."""
    try:
        with open(path, encoding='utf-8') as f:
            data = json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f'{path}: not JSON ({e}); expected tools/cross_val.py\'s '
                         'summary.json.') from e
    if not isinstance(data, dict) or 'runs' not in data:
        raise ValueError(f'{path}: no "runs" key; expected {{"folds": [...], "runs": '
                         '[{"seed": s, "detector": ..., "hda/MR-2": x, ...}], "mean": ..., '
                         '"std": ...}, as tools/cross_val.py writes it.')
    runs = data['runs']
    if not isinstance(runs, list) or not runs:
        raise ValueError(f'{path}: "runs" holds no run: nothing to tabulate (did the '
                         'cross-validation finish?).')
    values, per_run = OrderedDict(), []
    for i, run in enumerate(runs):
        where = f'{path}: run {i + 1} of {len(runs)}' + (
            f' (seed {run["seed"]})' if isinstance(run, dict) and 'seed' in run else '')
        if not isinstance(run, dict) or 'hda/MR-2' not in run:
            raise ValueError(f'{where} has no "hda/MR-2" (keys: '
                             f'{sorted(run) if isinstance(run, dict) else type(run).__name__})'
                             '; a run records its hda/MR-2 and hda/MR-2_camNN.')
        cells = OrderedDict()
        for key, v in run.items():
            if key == 'hda/MR-2' or key.startswith('hda/MR-2_cam'):
                group = 'pool' if key == 'hda/MR-2' else key[len('hda/MR-2_'):]
                values.setdefault(group, []).append(float(v))
                cells[group] = _pct(float(v))
        for key, v in run.items():  # the run's bootstrap intervals (cross_val --bootstrap)
            m = _CI_KEY.fullmatch(key)
            if m and isinstance(v, list) and len(v) == 2:
                group = m.group(2) or 'pool'
                if group in cells:
                    cells[group] += f' [{_pct(v[0])}, {_pct(v[1])}]'
        per_run.append((str(run.get('detector', f'run {i + 1}')), cells))
    name = runs[0].get('detector')
    name = _SEED_SUFFIX.sub('', str(name)) if name else \
        osp.basename(osp.dirname(osp.abspath(path)))
    boot = data.get('bootstrap')  # cross_val.py's resampling settings (None: no intervals)
    return name, values, len(runs), per_run, boot if isinstance(boot, dict) else None


def _pct(x):
    return 'nan' if x != x else f'{x * 100:.1f}'


def build_rows(results, boot, summaries):
    """``(columns, rows)``: rows are ``(name, {group: cell})``, cells in percent."""
    rows = []
    for det, res in (results or {}).items():
        cells = OrderedDict()
        for group, r in res.items():
            cell = _pct(r.mr2)
            if boot is not None:
                lo, hi = boot.detectors[det].intervals[group].ci
                cell += f' [{_pct(lo)}, {_pct(hi)}]'
            cells[group] = cell
        rows.append((det, cells))
    for name, values, n, per_run, _ in summaries:
        rows += per_run  # each seed's pooled figure, with its interval
        cells = OrderedDict(
            (g, f'{_pct(np.mean(v))} ± {_pct(np.std(v, ddof=1) if len(v) > 1 else 0.0)}')
            for g, v in values.items())
        rows.append((f'{name} ({n} seed{"s" if n > 1 else ""})', cells))
    cams = sorted({g for _, c in rows for g in c if g != 'pool'})
    return ['pool'] + cams, rows


def markdown(columns, rows, caption):
    lines = [caption, '', '| detector | ' + ' | '.join(columns) + ' |',
             '|---|' + '---:|' * len(columns)]
    for name, cells in rows:
        lines.append(f'| {name} | ' + ' | '.join(cells.get(c, '–') for c in columns) + ' |')
    return '\n'.join(lines) + '\n'


def _tex(s):
    for a, b in (('\\', r'\textbackslash{}'), ('&', r'\&'), ('%', r'\%'), ('_', r'\_'),
                 ('#', r'\#'), ('±', r'$\pm$'), ('–', '--')):
        s = s.replace(a, b)
    return s


def latex(columns, rows, caption):
    lines = [f'% {_tex(caption)}', r'\begin{tabular}{l' + 'r' * len(columns) + '}',
             r'\toprule', ' & '.join(['Detector'] + [_tex(c) for c in columns]) + r' \\',
             r'\midrule']
    for name, cells in rows:
        lines.append(' & '.join([_tex(name)] + [_tex(cells.get(c, '–')) for c in columns])
                     + r' \\')
    lines += [r'\bottomrule', r'\end{tabular}']
    return '\n'.join(lines) + '\n'


def main(argv=None):
    """Writes the tables (and plots); returns the paths written."""
    args = parse_args(argv)
    if not args.inputs and not args.summary:
        raise ValueError('results_table.py: nothing to tabulate; give detector folders '
                         'and/or --summary summary.json files.')
    summaries = [load_summary(p) for p in args.summary]  # bad files fail before scoring
    root, names = resolve_inputs(args.inputs, args.gt)
    results = boot = None
    notes = []
    if names:
        scores = score_detectors(root, names, args.cameras, args.gt, keep_curves=True,
                                 bootstrap=hda_benchmark.bootstrap_settings(args))
        results, notes, boot = scores.results, scores.notes, scores.bootstrap
    columns, rows = build_rows(results, boot, summaries)
    caption = ('MR-2 (%) of the HDA benchmark (protocol hda-benchmark), pool and each '
               'camera')
    if boot is not None:
        s = boot.settings
        caption += (f'; [{ci_key(s.ci)}]: {s.interval} interval of {s.resamples} '
                    f'resamples of {s.block_frames}-frame blocks within each camera, seed '
                    f'{s.seed}')
    if summaries:
        caption += '; cross-validation rows: mean ± std (n-1) over seeds'
    for name, *_, sb in summaries:  # each seed's interval, as cross_val.py drew it
        if sb:
            caption += (f'; {name} seeds [{ci_key(sb.get("ci", 0.95))}]: cross_val.py\'s '
                        f'{sb.get("interval")} interval of {sb.get("resamples")} resamples of '
                        f'{sb.get("block_frames")}-frame blocks within each camera, seed '
                        f'{sb.get("seed")}')
    paths = [osp.join(args.out, 'results.md'), osp.join(args.out, 'results.tex')]
    write_atomic(markdown(columns, rows, caption), paths[0], mode='w', encoding='utf-8')
    write_atomic(latex(columns, rows, caption), paths[1], mode='w', encoding='utf-8')
    if results:
        paths += hda_benchmark.plot_curves(results, args.out)
    print('\n'.join(markdown(columns, rows, caption).splitlines()))
    for n in notes:
        print(f'note: {n}')
    if summaries:
        print(f'note: {len(summaries)} summary.json rows have no curves: not in the plots')
    print(f'written: {", ".join(paths)} (columns: {", ".join(columns)})')
    return paths


if __name__ == '__main__':
    main()
