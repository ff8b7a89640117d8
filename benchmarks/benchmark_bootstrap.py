"""Time of 1,000 block-bootstrap resamples of the HDA benchmark's MR-2 against one MR-2.

    python benchmarks/benchmark_bootstrap.py [--frames 10000] [--dets 100] [--cameras 12] \
        [--resamples 1000] [--block-frames 50]

A synthetic pool of ``--cameras`` cameras sharing ``--frames`` frames, each frame with 0-5
persons and ``--dets`` detections (jittered copies of the persons, the rest random boxes;
random scores), in memory as ``tools/analysis/hda_benchmark.py`` holds them after reading
``allD.txt``. Times

- one MR-2: ``evaluate_benchmark`` (matching, then the curves of the pool and of each
  camera), as hda_benchmark.py computes it;
- the bootstrap: ``bootstrap_benchmark`` on the detections matched once (the matching,
  timed apart, is the same ``match_batch`` pass);

and prints both, their ratio, and the peak RSS.
"""
import argparse
import os.path as osp
import resource
import sys
import time

import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from hda_plugin.evaluation.bootstrap import (  # noqa: E402
    BootstrapSettings,
    bootstrap_benchmark,
    match_benchmark_detections,
)
from hda_plugin.evaluation.dbeval import CameraBoxes, evaluate_benchmark  # noqa: E402


def make_pool(n_frames, n_dets, n_cams, seed=0):
    """``(gt, dt)`` CameraBoxes per camera (cameras 17.. upward, frames split evenly)."""
    rng = np.random.default_rng(seed)
    gts, dts = [], []
    per_cam = np.full(n_cams, n_frames // n_cams)
    per_cam[:n_frames % n_cams] += 1
    for c, nf in enumerate(per_cam):
        cam = 17 + c
        n_gt = rng.integers(0, 6, nf)
        g_frame = np.repeat(np.arange(1, nf + 1), n_gt)
        h = rng.uniform(45, 300, len(g_frame))
        g = np.stack([rng.uniform(0, 1200, len(h)), rng.uniform(0, 600, len(h)), .41 * h, h], 1)
        # two jittered copies of each person, the rest of the frame's detections random
        jit = np.repeat(g, 2, axis=0) * (1 + rng.normal(0, .08, (2 * len(g), 4)))
        jit[:, :2] = np.repeat(g[:, :2], 2, axis=0) + rng.normal(0, 5, (2 * len(g), 2))
        j_frame = np.repeat(g_frame, 2)
        n_rand = np.maximum(n_dets - np.bincount(j_frame, minlength=nf + 1)[1:], 0)
        r_frame = np.repeat(np.arange(1, nf + 1), n_rand)
        rh = rng.uniform(20, 300, len(r_frame))
        rnd = np.stack([rng.uniform(0, 1200, len(rh)), rng.uniform(0, 600, len(rh)), .41 * rh,
                        rh], 1)
        d_frame = np.concatenate([j_frame, r_frame])
        d = np.concatenate([jit, rnd])
        s = np.concatenate([rng.uniform(.3, 1, len(jit)), rng.uniform(0, .8, len(rnd))])
        o = np.argsort(d_frame, kind='stable')
        gts.append(CameraBoxes(cam, int(nf), g_frame, g, np.zeros(len(g))))
        dts.append(CameraBoxes(cam, int(nf), d_frame[o], d[o], s[o]))
    return gts, dts


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--frames', type=int, default=10000)
    p.add_argument('--dets', type=int, default=100)
    p.add_argument('--cameras', type=int, default=12)
    p.add_argument('--resamples', type=int, default=1000)
    p.add_argument('--block-frames', type=int, default=50)
    args = p.parse_args()
    gts, dts = make_pool(args.frames, args.dets, args.cameras)
    n_det = sum(len(d.scores) for d in dts)
    pool = [g.camera for g in gts]
    t0 = time.perf_counter()
    res = evaluate_benchmark(gts, dts, pool=pool)
    one = time.perf_counter() - t0
    t0 = time.perf_counter()
    images, matched = match_benchmark_detections(gts, dts)
    match_s = time.perf_counter() - t0
    settings = BootstrapSettings(resamples=args.resamples, block_frames=args.block_frames)
    t0 = time.perf_counter()
    boot = bootstrap_benchmark(images, {'A': matched}, pool=pool, settings=settings)
    boot_s = time.perf_counter() - t0
    iv = boot.detectors['A'].intervals['pool']
    assert iv.estimate == res['pool'].mr2
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f'{args.cameras} cameras, {args.frames} frames, {n_det} detections '
          f'({args.dets} a frame), {int(images.num_gt.sum())} persons')
    print(f'one MR-2 (evaluate_benchmark: matching + curves, pool and {args.cameras} '
          f'cameras): {one:.2f} s   [matching alone: {match_s:.2f} s]')
    print(f'{args.resamples} resamples (blocks of {args.block_frames} frames; pool and '
          f'{args.cameras} cameras): {boot_s:.2f} s = {boot_s / one:.2f}x one MR-2')
    print(f'MR-2 {iv.estimate:.4f}, 95 % interval [{iv.ci[0]:.4f}, {iv.ci[1]:.4f}]; '
          f'peak RSS {rss:.0f} MB')


if __name__ == '__main__':
    main()
