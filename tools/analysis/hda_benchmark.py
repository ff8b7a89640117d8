"""The HDA benchmark's log-average miss rate of detectors' ``allD.txt`` files, as dbEval.m
computes it (protocol ``hda-benchmark``, see hda_plugin/evaluation/protocols.py).

    python tools/analysis/hda_benchmark.py /data/HDA_Dataset_V1.3 --detector AcfInria \
        [SSD512 ...] [--cameras 17 18 ...] [--gt GtAnnotationsAll] [--json mr.json] \
        [--plot curves/] [--bootstrap 1000 [--ci 0.95] [--seed 0] [--block-frames 50]]

Scores ``HDA_ROOT/hda_detections/<NAME>/cameraNN/Detections/allD.txt`` against
``HDA_ROOT/hda_detections/<gt>/...`` over every frame 1..nFrame of
``hda_annotations/camNN.txt``: the cameras given are pooled (default: every camera of the
release but 02, dbEval's ``hdawithout2a``), and each is reported alone. Write a model's
files with ``tools/test.py CONFIG CKPT --hda-detections NAME``. Without a ground-truth
``allD.txt`` for a camera, ground truth is built from its vbb file (the rule is printed).

``--bootstrap N`` adds percentile intervals (``MR-2_ci95``, pool and per camera) from N
block-bootstrap resamples (blocks of ``--block-frames`` contiguous frames drawn within each
camera), and for every detector after the first the interval of its MR-2 minus the
first's on the same resamples (``diff_ci95``) and the share of resamples in which it
beats the first (``beats_first``): hda_plugin/evaluation/bootstrap.py, docs/evaluation.md.
"""
import argparse
import json
import os.path as osp
import sys
from collections import OrderedDict

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from hda_plugin.evaluation.bootstrap import (  # noqa: E402
    BootstrapSettings,
    bootstrap_metrics,
    ci_key,
)
from hda_plugin.evaluation.dbeval import (  # noqa: E402
    benchmark_metrics,
    benchmark_table,
    score_detectors,
)
from hda_plugin.evaluation.protocols import HDA_BENCHMARK, hda_benchmark_title  # noqa: E402
from hda_plugin.fileio.atomic import atomic_open, write_atomic  # noqa: E402
from hda_plugin.utils.table import format_table  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('hda_root', help='release root (hda_annotations/, hda_detections/)')
    p.add_argument('--detector', nargs='+', required=True,
                   help='folders under hda_detections/, e.g. AcfInria SSD512')
    p.add_argument('--cameras', nargs='+',
                   help='cameras to pool (default: every camera of the release but 02)')
    p.add_argument('--gt', default=HDA_BENCHMARK['gt'],
                   help='ground-truth folder under hda_detections/ (default %(default)s)')
    p.add_argument('--json', help='write {"MR-2": ..., "MR-2_cam17": ...} of the first '
                   'detector here')
    p.add_argument('--plot', help='folder for the miss rate / FPPI figures (all detectors '
                   'on one plot)')
    add_bootstrap_args(p)
    return p.parse_args(argv)


def add_bootstrap_args(p):
    """``--bootstrap``, ``--ci``, ``--seed``, ``--block-frames`` (also results_table.py's)."""
    d = BootstrapSettings()
    p.add_argument('--bootstrap', type=int, metavar='N',
                   help='N block-bootstrap resamples: intervals of MR-2 and paired '
                   'differences to the first detector (e.g. 1000)')
    p.add_argument('--ci', type=float, default=d.ci,
                   help='interval level (default %(default)s; percentile interval)')
    p.add_argument('--seed', type=int, default=d.seed,
                   help='seed of the resamples (default %(default)s)')
    p.add_argument('--block-frames', type=int, default=d.block_frames,
                   help='frames per resampled block, drawn within each camera (default '
                   '%(default)s: 10 s at the release\'s 5 fps)')


def bootstrap_settings(args):
    """The :class:`BootstrapSettings` of the parsed options, or None without --bootstrap."""
    if args.bootstrap is None:
        return None
    return BootstrapSettings(resamples=args.bootstrap, ci=args.ci, seed=args.seed,
                             block_frames=args.block_frames)


def plot_curves(results_by_det, out_dir):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    paths = []
    groups = list(next(iter(results_by_det.values())))
    for group in groups:
        fig, ax = plt.subplots(figsize=(5.5, 5))
        for det, res in results_by_det.items():
            r = res[group]
            if len(r.curve.fppi):
                # dbEval's legend: the rounded percentage, then the name
                ax.plot(r.curve.fppi, r.curve.miss_rate, lw=2,
                        label=f'{round(r.mr2 * 100):.0f}% {det}')
        ax.set_xscale('log')
        ax.set_yscale('log')
        ax.axis([2e-4, 50, .035, 1])  # dbEval's lims
        ticks = [0, .05, .1, .2, .3, .4, .5, .64, .8, 1]
        ax.set_yticks(ticks[1:])
        ax.set_yticklabels([f'.{round(t * 100):02d}' if t < 1 else '1' for t in ticks[1:]])
        ax.minorticks_off()
        ax.grid(True)
        ax.set_xlabel('false positives per image')
        ax.set_ylabel('miss rate')
        cams = ' '.join(map(str, res[group].cameras))
        ax.set_title(f'hda-benchmark, {"cameras " + cams if group == "pool" else group}',
                     fontsize=9)
        if ax.lines:
            ax.legend(loc='lower left', fontsize=9)
        fig.tight_layout()
        path = osp.join(out_dir, f'hda_benchmark_{group}.png')
        with atomic_open(path, 'wb') as f:
            fig.savefig(f, format='png', dpi=100)
        plt.close(fig)
        paths.append(path)
    return paths


def _pct(x):
    return 'nan' if x != x else f'{x:.1%}'


def interval_table(results, boot, det, title):
    """Lines of a detector's table with the bootstrap's columns."""
    key = ci_key(boot.settings.ci)
    d = boot.detectors[det]
    header = ['cameras', 'frames', 'persons', 'dets>=40px', 'MR-2', f'MR-2 {key}', 'MR@0.1']
    if d.vs_first is not None:
        header += [f'diff {key} vs first', 'beats first']
    rows = []
    for name, r in results[det].items():
        iv = d.intervals[name]
        row = [name, r.num_images, r.num_gt, r.num_dt, _pct(r.mr2),
               f'[{_pct(iv.ci[0])}, {_pct(iv.ci[1])}]', _pct(r.miss_rate_at_fppi_0_1)]
        if d.vs_first is not None:
            c = d.vs_first[name]
            row += [f'[{c.diff_ci[0] * 100:+.1f}, {c.diff_ci[1] * 100:+.1f}] pt',
                    _pct(c.beats_first)]
        rows.append(row)
    return [title] + format_table(header, rows)


def bootstrap_json(boot):
    """The bootstrap's settings as written to --json."""
    s = boot.settings
    return OrderedDict(resamples=s.resamples, ci=s.ci, seed=s.seed, unit=s.unit,
                       block_frames=s.block_frames, interval=s.interval)


def main(argv=None):
    """Prints the tables; returns the results (detector -> group -> MissRateSummary), and
    with ``--bootstrap`` ``(results, BootstrapResult)``."""
    args = parse_args(argv)
    root = args.hda_root
    settings = bootstrap_settings(args)
    scores = score_detectors(root, args.detector, args.cameras, args.gt,
                             keep_curves=bool(args.plot), bootstrap=settings)
    results, left, notes, boot = scores.results, scores.left, scores.notes, scores.bootstrap
    print('=' * 72)
    for det, res in results.items():
        title = hda_benchmark_title(args.gt, detector=det)
        if boot is None:
            print('\n'.join(benchmark_table(res, title)))
        else:
            print('\n'.join(interval_table(results, boot, det, title)))
    if boot is not None:
        s = boot.settings
        first = args.detector[0]
        print(f'bootstrap: {s.resamples} resamples of {s.unit}, {s.block_frames} frames a '
              f'block, seed {s.seed}; {s.interval} intervals at {s.ci:g}; differences are '
              f'MR-2 minus {first}\'s on the same resamples (percentage points)')
        for det, d in boot.detectors.items():
            bad = {g: iv.undefined for g, iv in d.intervals.items() if iv.undefined}
            if bad:
                print(f'note: {det}: resamples without a person but with detections have no '
                      f'MR-2, left out of the interval: {bad}')
    if left:
        print(f'left out of the pool: cameras {left} (dbEval\'s hdawithout2a); '
              '--cameras to choose')
    for n in notes:
        print(f'note: {n}')
    if args.json:
        first = args.detector[0]
        out = benchmark_metrics(results[first])
        if boot is not None:
            out.update(bootstrap_metrics(boot, first))
            out['bootstrap'] = bootstrap_json(boot)
            out['detectors'] = OrderedDict(
                (det, OrderedDict(list(benchmark_metrics(results[det]).items())
                                  + list(bootstrap_metrics(boot, det).items())))
                for det in args.detector)
            if len(args.detector) > 1:  # the second detector minus the first, at the top
                second = bootstrap_metrics(boot, args.detector[1])
                out.update((k, v) for k, v in second.items() if not k.startswith('MR-2_'))
                out['diff_of'] = f'{args.detector[1]} - {first}'
        write_atomic(json.dumps(out, indent=1), args.json, mode='w', encoding='utf-8')
        print(f'json ({first}' + (', every detector under "detectors"' if boot else '')
              + f'): {args.json}')
    if args.plot:
        paths = plot_curves(results, args.plot)
        print(f'plots: {paths[0]} (pool) and {len(paths) - 1} per camera in {args.plot}')
    print('=' * 72)
    if boot is not None:
        return results, boot
    return results


if __name__ == '__main__':
    main()
