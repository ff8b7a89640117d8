"""Tiled vs untiled inference on far, small people: MR-2, recall and frames/s.

    python benchmarks/benchmark_tiling.py CHECKPOINT [--config CONFIG] [--frames 20] \
        [--heights 25 60] [--batch-size 8]

A synthetic camera 60 (2560x1600, the HDA release's largest camera) with 12-25 people per
frame whose heights are drawn from ``--heights`` (pixels), written as a release (.seq and
vbb), goes through tools/infer.py's code twice: ``--tile off`` (the whole frame resized to
the input, as tools/test.py scores) and ``--tile auto`` (the rule tiles these frames for
SSD-style anchors: input-size tiles, 20 % overlap, plus the whole frame, merged by NMS).
Both allD.txt files are scored with

* ``hda/MR-2``: the HDA benchmark's rules (protocol ``hda-benchmark``: ground truth built
  from the vbb file, detections >= 40 px, aspect 0.41, IoU 0.5), the figure that compares
  with the benchmark's published numbers;
* recall: the share of all ground-truth people (every height) matched at IoU 0.5 by a
  detection scoring at least 0.3 (the drawing threshold of --video), and by any detection.

The default checkpoint is the CPU demo model (``make demo``: work_dirs/demo/iter_1150.pth).
"""
import argparse
import os.path as osp
import sys
import tempfile
import time

import numpy as np

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
import hda_plugin  # noqa: E402,F401
from hda_plugin.evaluation.dbeval import (  # noqa: E402
    evaluate_benchmark,
    load_benchmark_dt,
    load_benchmark_gt,
    to_xyxy,
)
from hda_plugin.evaluation.functional import match_image  # noqa: E402
from hda_plugin.inference import InferenceRunner, build_backend, open_inputs  # noqa: E402
from hda_plugin.inference.writers import CocoWriter  # noqa: E402
from hda_plugin.testing import make_synthetic_hda  # noqa: E402
from hda_plugin.utils.config import load_config  # noqa: E402
from hda_plugin.utils.table import format_table  # noqa: E402

DEMO = osp.join(ROOT, 'configs', 'ssdlite_mobilenetv2-w0.5_1xb8-1150it_synthetic-hda-cpu.py')
CAM = 60


def recall(gt, dt, thr):
    hit = total = 0
    for f in range(1, gt.n_frames + 1):
        g = to_xyxy(gt.boxes[gt.frame == f])
        keep = (dt.frame == f) & (dt.scores >= thr)
        _, gm = match_image(to_xyxy(dt.boxes[keep]), dt.scores[keep], g, np.zeros(len(g), bool))
        hit, total = hit + int((gm == 1).sum()), total + len(g)
    return hit / max(total, 1), total


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('checkpoint', nargs='?', default=osp.join(ROOT, 'work_dirs', 'demo',
                                                             'iter_1150.pth'))
    p.add_argument('--config', default=DEMO)
    p.add_argument('--frames', type=int, default=20)
    p.add_argument('--heights', nargs=2, type=float, default=[25, 60])
    p.add_argument('--batch-size', type=int, default=8)
    p.add_argument('--seed', type=int, default=0)
    args = p.parse_args()
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'{args.checkpoint} does not exist: run `make demo` first, or '
                                'give a checkpoint of --config.')
    cfg = load_config(args.config)
    backend = build_backend('pytorch', cfg, args.checkpoint)
    rows = []
    with tempfile.TemporaryDirectory() as root:
        make_synthetic_hda(root, [CAM], frames=args.frames, seed=args.seed, progress=False,
                           person_heights=tuple(args.heights))
        gt = load_benchmark_gt(root, CAM)
        for tile in ('off', 'auto'):
            runner = InferenceRunner(backend, root, f'tile_{tile}', tile=tile,
                                     batch_size=args.batch_size)
            coco = CocoWriter(osp.join(root, f'{tile}.json'))
            start = time.perf_counter()
            res = runner.run_source(open_inputs([root], cameras=[str(CAM)])[0], coco)
            wall = time.perf_counter() - start
            coco.close()
            dt = load_benchmark_dt(root, f'tile_{tile}', CAM)
            mr2 = evaluate_benchmark([gt], [dt], pool=[CAM])['pool'].mr2
            r03, n_gt = recall(gt, dt, 0.3)
            r_all, _ = recall(gt, dt, -1.0)
            plan = next(iter(res.plans.values()))
            rows.append([tile, len(plan.tiles), f'{mr2:.1%}', f'{r03:.1%}', f'{r_all:.1%}',
                         res.detections, f'{res.frames / wall:.3f}'])
            print(f'  --tile {tile}: {plan.reason}', flush=True)
    print('=' * 72)
    print(f'{args.frames} synthetic 2560x1600 frames, {n_gt} people {args.heights[0]:g}-'
          f'{args.heights[1]:g} px tall, {osp.basename(args.config)}, {args.checkpoint}')
    print('\n'.join(format_table(['--tile', 'tiles', 'hda/MR-2', 'recall@0.3', 'recall (all)',
                                  'detections', 'frames/s'], rows)))
    print('=' * 72)


if __name__ == '__main__':
    main()
