"""The HDA benchmark's log-average miss rate of detectors' ``allD.txt`` files, as dbEval.m
computes it (protocol ``hda-benchmark``, see hda_plugin/evaluation/protocols.py).

    python tools/analysis/hda_benchmark.py /data/HDA_Dataset_V1.3 --detector AcfInria \
        [SSD512 ...] [--cameras 17 18 ...] [--gt GtAnnotationsAll] [--json mr.json] \
        [--plot curves/]

Scores ``HDA_ROOT/hda_detections/<NAME>/cameraNN/Detections/allD.txt`` against
``HDA_ROOT/hda_detections/<gt>/...`` over every frame 1..nFrame of
``hda_annotations/camNN.txt``: the cameras given are pooled (default: every camera of the
release but 02, dbEval's ``hdawithout2a``), and each is reported alone. Write a model's
files with ``tools/test.py CONFIG CKPT --hda-detections NAME``. Without a ground-truth
``allD.txt`` for a camera, ground truth is built from its vbb file (the rule is printed).
"""
import argparse
import json
import os
import os.path as osp
import sys

from tqdm import tqdm

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from hda_plugin.evaluation.dbeval import (  # noqa: E402
    benchmark_metrics,
    benchmark_notes,
    benchmark_table,
    evaluate_benchmark,
    load_benchmark_dt,
    load_benchmark_gt,
)
from hda_plugin.evaluation.protocols import HDA_BENCHMARK, hda_benchmark_title  # noqa: E402
from hda_plugin.fileio.hda_layout import HDA_LAYOUT, annotated_cameras, camera_id  # noqa: E402


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
    return p.parse_args(argv)


def release_cameras(root):
    """Cameras of the release with an annotation file, but 02 (the benchmark's default)."""
    cams = annotated_cameras(root)
    if not cams:
        raise FileNotFoundError(f'No camNN.txt of an HDA camera in {root}/{HDA_LAYOUT["ann"]}.')
    excluded = HDA_BENCHMARK['excluded_cameras']
    return [c for c in cams if c not in excluded], [c for c in cams if c in excluded]


def plot_curves(results_by_det, out_dir):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    os.makedirs(out_dir, exist_ok=True)
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
        fig.savefig(path, dpi=100)
        plt.close(fig)
        paths.append(path)
    return paths


def main(argv=None):
    args = parse_args(argv)
    root = args.hda_root
    if args.cameras:
        cams, left = sorted({camera_id(c) for c in args.cameras}), []
    else:
        cams, left = release_cameras(root)
    n_frames, gts = {}, []
    for cam in tqdm(cams, desc='ground truth', unit='camera'):
        gt = load_benchmark_gt(root, cam, args.gt)
        n_frames[cam] = gt.n_frames
        gts.append(gt)
    results, dts = {}, {}
    for det in args.detector:
        dts[det] = [load_benchmark_dt(root, det, cam, n_frames[cam])
                    for cam in tqdm(cams, desc=det, unit='camera')]
        results[det] = evaluate_benchmark(gts, dts[det], pool=cams,
                                          keep_curves=bool(args.plot))
    notes = benchmark_notes(gts, dts)
    print('=' * 72)
    for det, res in results.items():
        print('\n'.join(benchmark_table(res, hda_benchmark_title(args.gt, detector=det))))
    if left:
        print(f'left out of the pool: cameras {left} (dbEval\'s hdawithout2a); '
              '--cameras to choose')
    for n in notes:
        print(f'note: {n}')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(benchmark_metrics(results[args.detector[0]]), f, indent=1)
        print(f'json ({args.detector[0]}): {args.json}')
    if args.plot:
        paths = plot_curves(results, args.plot)
        print(f'plots: {paths[0]} (pool) and {len(paths) - 1} per camera in {args.plot}')
    print('=' * 72)
    return results


if __name__ == '__main__':
    main()
