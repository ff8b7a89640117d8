"""Miss rate vs FPPI (log-log, the HDA style) and precision-recall curves from test results.

    python tools/test.py configs/ssd512_hda.py CKPT --out results.pkl
    python tools/analysis/plot_curves.py configs/ssd512_hda.py results.pkl [other.pkl ...] \
        [--labels SSD-512 "SSD-512 + x"] --out-dir curves/

Several result files go on the same plots, to compare runs. The ground truth comes from the
config's test set (``tools/test.py --out`` does not keep it), matched as CaltechMetric (the
caltech protocol) does in one setting (``--setting``, default the config's first). Writes
``miss_rate_fppi.png`` and ``precision_recall.png`` (all cameras, one panel per camera
after the overall one) and ``curves.json`` (MR-2 and the 9 sampled miss rates per run and
camera), and prints an MR-2 table.
"""
import argparse
import json
import math
import os
import os.path as osp

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
from tqdm import tqdm  # noqa: E402

import hda_plugin  # noqa: E402,F401
from hda_plugin.evaluation import REF_FPPI  # noqa: E402
from hda_plugin.evaluation.results import (  # noqa: E402
    default_setting,
    evaluate_results,
    load_ground_truth,
    load_results,
    metric_from_config,
)
from hda_plugin.utils import format_table  # noqa: E402
from hda_plugin.utils.cli import add_cfg_options, config_from_args  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config', help='the config the results were made with (its test set)')
    p.add_argument('results', nargs='+', help='tools/test.py --out pickles')
    p.add_argument('--labels', nargs='+', help='legend names, one per result file')
    p.add_argument('--out-dir', required=True)
    p.add_argument('--setting', help='caltech setting the curves are drawn in (default: the '
                   "config's first, Reasonable in the HDA configs)")
    add_cfg_options(p)
    args = p.parse_args()
    if args.labels and len(args.labels) != len(args.results):
        p.error(f'--labels gives {len(args.labels)} names for {len(args.results)} files')
    return args


def plot(runs, names, kind, path):
    panels = ['all'] + sorted({c for r in runs for c in r if c != 'all'})
    cols = min(4, len(panels))
    rows = math.ceil(len(panels) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.8 * rows), squeeze=False)
    for ax, panel in zip(axes.flat, panels):
        for run, name in zip(runs, names):
            c = run.get(panel)
            if c is None or not len(c.curve.fppi):
                continue
            if kind == 'roc':
                ax.plot(c.curve.fppi, c.curve.miss_rate, lw=2, label=f'{c.mr2:.1%} {name}')
            else:
                ax.plot(c.curve.recall, c.curve.precision, lw=2, label=name)
        if kind == 'roc':
            ax.set_xscale('log')
            ax.set_yscale('log')
            ax.set_xlim(1e-3, 1e1)
            ax.set_ylim(0.05, 1)
            ticks = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.64, 0.8, 1]
            ax.set_yticks(ticks)
            ax.set_yticklabels([f'{t:.2f}'.lstrip('0') if t < 1 else '1' for t in ticks])
            ax.minorticks_off()
            ax.set_xlabel('false positives per image')
            ax.set_ylabel('miss rate')
            for x in (REF_FPPI[0], REF_FPPI[-1]):
                ax.axvline(x, color='0.8', lw=0.8, ls=':')
        else:
            ax.set_xlim(0, 1)
            ax.set_ylim(0, 1.02)
            ax.set_xlabel('recall')
            ax.set_ylabel('precision')
        ax.grid(True, which='major', alpha=0.4)
        ax.set_title('all cameras' if panel == 'all' else panel)
        if ax.lines:
            ax.legend(loc='lower left' if kind == 'roc' else 'lower left', fontsize=8,
                      title='MR-2' if kind == 'roc' else None, title_fontsize=8)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis('off')
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main():
    args = parse_args()
    cfg = config_from_args(args)
    metric = metric_from_config(cfg)
    setting = args.setting or default_setting(metric)
    gt = load_ground_truth(cfg, 'test')
    names = args.labels or [osp.splitext(osp.basename(r))[0] for r in args.results]
    runs = []
    for path in tqdm(args.results, desc='results', unit='file'):
        evaluated = evaluate_results(load_results(path), gt, metric, setting=setting)
        runs.append(metric.compute_curves([e['match'] for e in evaluated]))
    os.makedirs(args.out_dir, exist_ok=True)
    plot(runs, names, 'roc', osp.join(args.out_dir, 'miss_rate_fppi.png'))
    plot(runs, names, 'pr', osp.join(args.out_dir, 'precision_recall.png'))
    summary = {name: {cam: dict(mr2=c.mr2, miss_rate_at_ref=c.ref_miss_rate.tolist(),
                                images=c.num_images, persons=c.num_gt)
                      for cam, c in run.items()} for name, run in zip(names, runs)}
    with open(osp.join(args.out_dir, 'curves.json'), 'w') as f:
        json.dump(dict(ref_fppi=REF_FPPI.tolist(), protocol='caltech', setting=setting,
                       runs=summary), f, indent=1)
    cams = ['all'] + sorted({c for r in runs for c in r if c != 'all'})
    print('=' * 60)
    print(f'log-average miss rate (MR-2), protocol caltech, setting {setting or "none"} '
          f'(aspect ratio {metric.aspect_ratio}), {len(gt)} test images')
    print('\n'.join(format_table(
        ['camera'] + list(names),
        [[cam] + [f'{run[cam].mr2:.1%}' if cam in run else '-' for run in runs]
         for cam in cams], indent='')))
    print(f'plots: {osp.join(args.out_dir, "miss_rate_fppi.png")}, '
          f'{osp.join(args.out_dir, "precision_recall.png")}; numbers: '
          f'{osp.join(args.out_dir, "curves.json")}')
    print('=' * 60)


if __name__ == '__main__':
    main()
