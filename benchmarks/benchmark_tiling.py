"""Tiled vs untiled inference on far, small people: MR-2, recall and frames/s; and the time
of the tile merge alone (``--merge``).

    python benchmarks/benchmark_tiling.py CHECKPOINT [--config CONFIG] [--frames 20] \
        [--heights 25 60] [--batch-size 8]
    python benchmarks/benchmark_tiling.py --merge 4 [--repeats 3]

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

``--merge N``: N synthetic 2560x1600 frames through the whole-frame pass and the tiles of
``--tile auto``, then the merge of each frame's passes timed alone (median of
``--repeats``), two ways: *before*, the merge as it was until the cap (MMDetection's
``merge_results_by_nms``: every box of every pass into one NMS, nothing capped), and
*after*, :func:`hda_plugin.inference.tiling.merge_tiles` (score-ordered prefixes until
``max_per_img`` boxes are kept). The script checks that *after* equals *before*'s first
``max_per_img`` boxes (boxes of equal score in any order). Without the checkpoint file,
seeded random weights are used (every pass then returns ``max_per_img`` boxes: the worst
case for the merge).
"""
import argparse
import collections
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
)
from hda_plugin.evaluation.functional import match_image  # noqa: E402
from hda_plugin.fileio.coco_results import CocoWriter  # noqa: E402
from hda_plugin.inference import InferenceRunner, build_backend, open_inputs  # noqa: E402
from hda_plugin.inference.tiling import merge_tiles  # noqa: E402
from hda_plugin.structures import Detections, xywh_to_xyxy  # noqa: E402
from hda_plugin.testing import make_synthetic_hda  # noqa: E402
from hda_plugin.utils.config import load_config  # noqa: E402
from hda_plugin.utils.table import format_table  # noqa: E402

DEMO = osp.join(ROOT, 'configs', 'ssdlite_mobilenetv2-w0.5_1xb8-1150it_synthetic-hda-cpu.py')
CAM = 60


def recall(gt, dt, thr):
    hit = total = 0
    for f in range(1, gt.n_frames + 1):
        g = xywh_to_xyxy(gt.boxes[gt.frame == f])
        keep = (dt.frame == f) & (dt.scores >= thr)
        _, gm = match_image(xywh_to_xyxy(dt.boxes[keep]), dt.scores[keep], g,
                            np.zeros(len(g), bool))
        hit, total = hit + int((gm == 1).sum()), total + len(g)
    return hit / max(total, 1), total


def merge_before(whole, tiles, plan, iou_thr):
    """The tile merge as it was before the cap: every pass's boxes shifted and merged by
    class-wise NMS with ``mmdet.utils.large_image.merge_results_by_nms``, nothing capped."""
    import torch
    from mmdet.structures import DetDataSample
    from mmdet.utils.large_image import merge_results_by_nms
    from mmengine.structures import InstanceData
    samples, offsets = [], [(0, 0)] + [(t[0], t[1]) for t in plan.tiles]
    for d in [whole, *tiles]:
        s = DetDataSample()
        s.pred_instances = InstanceData(bboxes=torch.from_numpy(d.boxes).reshape(-1, 4),
                                        scores=torch.from_numpy(d.scores),
                                        labels=torch.from_numpy(d.labels))
        samples.append(s)
    w, h = plan.frame_size
    merged = merge_results_by_nms(samples, offsets, src_image_shape=(h, w),
                                  nms_cfg=dict(type='nms', iou_threshold=iou_thr)).pred_instances
    return Detections(merged.bboxes.numpy().astype(np.float32),
                      merged.scores.numpy().astype(np.float32),
                      merged.labels.numpy().astype(np.int64))


def _same_rows(after, before, m):
    """``after`` == ``before[:m]``: the same scores in order, the same boxes for each score
    (equal scores may come in another order: batched_nms's sort does not keep ties in input
    order, capped_nms does), all of them unless the m-th score is tied past the cut."""
    if not np.array_equal(after.scores, before.scores[:m]):
        return False
    cut = before.scores[m - 1] if 0 < m < len(before) and before.scores[m - 1] == \
        before.scores[m] else -np.inf

    def rows(d):
        keep = d.scores > cut
        return sorted(map(tuple, np.c_[d.boxes[keep], d.scores[keep]].tolist()))
    return rows(after) == rows(before.select(slice(0, m)))


def _median_seconds(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), out


def merge_benchmark(args):
    """--merge: the merge of each frame's passes, before and after the cap, timed alone."""
    import torch
    ckpt, weights = args.checkpoint, args.checkpoint
    with tempfile.TemporaryDirectory() as root:
        if not osp.isfile(ckpt):
            from hda_plugin.testing.weights import random_checkpoint
            ckpt, weights = osp.join(root, 'random.pth'), 'seeded random weights'
            random_checkpoint(args.config, ckpt)
        backend = build_backend('pytorch', load_config(args.config), ckpt)
        runner = InferenceRunner(backend, root, 'merge', tile='auto', progress=False)
        make_synthetic_hda(root, [CAM], frames=args.merge, seed=args.seed, progress=False,
                           person_heights=tuple(args.heights))
        rows, totals = [], collections.defaultdict(float)
        for frame in open_inputs([root], cameras=[str(CAM)])[0]:
            img = frame.image
            plan = runner.plan(img.shape[1], img.shape[0])
            jobs = [img] + [img[y1:y2, x1:x2] for x1, y1, x2, y2 in plan.tiles]
            passes = []
            for i in range(0, len(jobs), args.batch_size):
                inputs, samples = backend.preprocess(jobs[i:i + args.batch_size])
                passes.extend(backend(inputs, samples, collections.defaultdict(float)))
            t_before, before = _median_seconds(
                lambda: merge_before(passes[0], passes[1:], plan, runner.iou_thr), args.repeats)
            t_after, after = _median_seconds(
                lambda: merge_tiles(passes[0], passes[1:], plan, runner.iou_thr,
                                    runner.max_per_img), args.repeats)
            m = runner.max_per_img
            if not _same_rows(after, before, m):
                raise AssertionError(f'frame {frame.index}: the capped merge differs from the '
                                     f'first {m} boxes of the full one.')
            n_in = sum(len(d) for d in passes)
            rows.append([frame.index, len(passes), n_in, len(before), len(after),
                         f'{1000 * t_before:.1f}', f'{1000 * t_after:.1f}',
                         f'{t_before / t_after:.0f}x'])
            for k, v in (('before', t_before), ('after', t_after)):
                totals[k] += v
            print(f'  frame {frame.index}: {n_in} boxes in, before {1000 * t_before:.1f} ms '
                  f'({len(before)} kept), after {1000 * t_after:.1f} ms ({len(after)} kept)',
                  flush=True)
    print('=' * 72)
    print(f'tile merge, {args.merge} synthetic 2560x1600 frames, --tile auto ({plan.reason}), '
          f'{osp.basename(args.config)}, {weights}, max_per_img {runner.max_per_img}, IoU '
          f'{runner.iou_thr:g}, median of {args.repeats}; torch {torch.__version__} '
          f'({torch.get_num_threads()} threads)')
    print('\n'.join(format_table(['frame', 'passes', 'boxes in', 'kept before', 'kept after',
                                  'before ms', 'after ms', 'speed-up'], rows)))
    print(f'mean per frame: before {1000 * totals["before"] / len(rows):.1f} ms, after '
          f'{1000 * totals["after"] / len(rows):.1f} ms; after == before[:max_per_img] on '
          'every frame (ties in any order)')
    print('=' * 72)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('checkpoint', nargs='?', default=osp.join(ROOT, 'work_dirs', 'demo',
                                                             'iter_1150.pth'))
    p.add_argument('--config', default=DEMO)
    p.add_argument('--frames', type=int, default=20)
    p.add_argument('--heights', nargs=2, type=float, default=[25, 60])
    p.add_argument('--batch-size', type=int, default=8)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--merge', type=int, metavar='FRAMES',
                   help='time the tile merge alone, before and after the cap, on this many '
                   'frames')
    p.add_argument('--repeats', type=int, default=3, help='--merge: timings per frame')
    args = p.parse_args()
    if args.merge:
        return merge_benchmark(args)
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
            coco.commit()
            dt = load_benchmark_dt(root, f'tile_{tile}', CAM)
            pool = evaluate_benchmark([gt], [dt], pool=[CAM])['pool']
            mr2 = pool.mr2 if hasattr(pool, 'mr2') else pool['mr2']  # record, or dict before
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
