"""Time of MissRateMetric against MMDetection's eval_map on the same detections.

    python benchmarks/benchmark_miss_rate.py [--images 10000] [--dets 100] [--gts 6]

Random images, each with ``--gts`` persons (one in six an ignore region) and ``--dets``
detections (jittered copies of the persons plus random boxes, random scores). Times
MissRateMetric's ``process`` + ``compute_metrics`` (matching, curve, MR-2, per-camera
split over 10 cameras) and ``eval_map`` (what VOCMetric calls) with VOCMetric's default
``nproc=4`` and with ``nproc=1``.
"""
import argparse
import os.path as osp
import sys
import time

import numpy as np
import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from mmdet.evaluation.functional import eval_map  # noqa: E402

from hda_plugin.evaluation import MissRateMetric  # noqa: E402


def make_data(n_images, n_dets, n_gts, seed=0):
    rng = np.random.default_rng(seed)
    images = []
    for i in range(n_images):
        x, y = rng.uniform(0, 1200, n_gts), rng.uniform(0, 700, n_gts)
        h = rng.uniform(30, 300, n_gts)
        gts = np.stack([x, y, x + 0.41 * h, y + h], 1).astype(np.float32)
        ignore = np.arange(n_gts) % 6 == 5
        k = min(n_dets // 2, 3 * n_gts)
        src = gts[rng.integers(0, n_gts, k)]
        wh = np.concatenate([src[:, 2:] - src[:, :2]] * 2, 1)
        near = src + rng.normal(0, 0.1, (k, 4)).astype(np.float32) * wh
        x, y = rng.uniform(0, 1200, n_dets - k), rng.uniform(0, 700, n_dets - k)
        h = rng.uniform(30, 300, n_dets - k)
        far = np.stack([x, y, x + 0.41 * h, y + h], 1).astype(np.float32)
        dets = np.concatenate([near, far])
        dets[:, 2:] = np.maximum(dets[:, 2:], dets[:, :2] + 1)
        # detections near a person score higher on average, as a trained detector's do
        scores = np.concatenate([rng.uniform(0.3, 1.0, k), rng.uniform(0.0, 0.6, n_dets - k)])
        scores = scores.astype(np.float32)
        images.append((f'hda_frames/cam{17 + i % 10}/I{i:05d}.jpg', dets, scores,
                       gts[~ignore], gts[ignore]))
    return images


def samples(images):
    out = []
    for path, dets, scores, gts, ign in images:
        out.append(dict(
            img_path=path,
            pred_instances=dict(bboxes=torch.from_numpy(dets), scores=torch.from_numpy(scores),
                                labels=torch.zeros(len(dets), dtype=torch.long)),
            gt_instances=dict(bboxes=torch.from_numpy(gts),
                              labels=torch.zeros(len(gts), dtype=torch.long)),
            ignored_instances=dict(bboxes=torch.from_numpy(ign),
                                   labels=torch.zeros(len(ign), dtype=torch.long))))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--images', type=int, default=10000)
    p.add_argument('--dets', type=int, default=100)
    p.add_argument('--gts', type=int, default=6)
    args = p.parse_args()
    images = make_data(args.images, args.dets, args.gts)
    data_samples = samples(images)

    metric = MissRateMetric(aspect_ratio=0.41)
    metric.dataset_meta = dict(classes=('person', ))
    t = time.perf_counter()
    metric.process({}, data_samples)
    res = metric.compute_metrics(metric.results)
    t_mr = time.perf_counter() - t

    dets = [[np.hstack([d, s[:, None]])] for _, d, s, _, _ in images]
    anns = [dict(bboxes=g, labels=np.zeros(len(g), dtype=np.int64), bboxes_ignore=i,
                 labels_ignore=np.zeros(len(i), dtype=np.int64)) for _, _, _, g, i in images]
    times = {}
    for nproc in (4, 1):
        t = time.perf_counter()
        ap, _ = eval_map(dets, anns, iou_thr=0.5, eval_mode='area', nproc=nproc,
                         logger='silent')
        times[nproc] = time.perf_counter() - t
    print('=' * 72)
    print(f'{args.images} images x {args.dets} detections, {args.gts} persons per image '
          '(1 in 6 an ignore region)')
    print(f'  MissRateMetric (match + curve + MR-2 overall and 10 cameras): {t_mr:.2f} s '
          f'(MR-2 {res["MR-2"]:.3f})')
    print(f'  mmdet eval_map, nproc=4 (VOCMetric default): {times[4]:.2f} s (AP {ap:.3f})')
    print(f'  mmdet eval_map, nproc=1: {times[1]:.2f} s')
    print(f'  ratio MissRateMetric / eval_map: {t_mr / times[4]:.2f} (nproc=4), '
          f'{t_mr / times[1]:.2f} (nproc=1)')
    print('=' * 72)


if __name__ == '__main__':
    main()
