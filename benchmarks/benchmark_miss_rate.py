"""Time of CaltechMetric (one MR-2; all Dollár settings) and HDABenchmarkMetric
against MMDetection's eval_map on the same detections.

    python benchmarks/benchmark_miss_rate.py [--images 10000] [--dets 100] [--gts 6]

Random images, each with ``--gts`` persons (one in six an ignore region, visible
fractions random) and ``--dets`` detections (jittered copies of the persons plus random
boxes, random scores), 10 cameras. Times ``process`` + ``compute_metrics`` of

- ``CaltechMetric(aspect_ratio=0.41)``: one MR-2 (caltech protocol, no settings), overall
  and per camera;
- ``CaltechMetric(aspect_ratio=0.41, settings=DOLLAR_SETTINGS)``: the 8 settings of the
  HDA configs, MR-2 and MR-4, overall and per camera;
- ``HDABenchmarkMetric()``: the same detections scored as dbEval.m does
  against a ground-truth ``allD.txt`` per camera (written to a temporary release, read back
  inside the timing);

and ``eval_map`` (what VOCMetric calls) with VOCMetric's default ``nproc=4`` and ``nproc=1``.
``--compare-commit REV`` also runs this benchmark as it was at ``REV`` (a temporary git
worktree, same arguments) and reports the new figures against that version's single MR-2
(e.g. ``09b2826``, before the protocols had names).
"""
import argparse
import os
import os.path as osp
import sys
import tempfile
import time

import numpy as np
import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from mmdet.evaluation.functional import eval_map  # noqa: E402

from hda_plugin.evaluation import (  # noqa: E402
    DOLLAR_SETTINGS,
    CaltechMetric,
    HDABenchmarkMetric,
)
from hda_plugin.fileio.alld import alld_path, write_alld  # noqa: E402
from hda_plugin.fileio.hda_layout import (  # noqa: E402
    HDA_LAYOUT,
    camera_name,
    frame_filename,
    hda_frame_of,
    hda_img_id,
)
from hda_plugin.fileio.vbb import VbbAnnotation, dump_vbb  # noqa: E402


def make_data(n_images, n_dets, n_gts, seed=0):
    rng = np.random.default_rng(seed)
    vis_rng = np.random.default_rng(seed + 1)
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
        # visible fractions from their own generator: the boxes are those of the earlier
        # version of this benchmark (same MR-2 for the same seed)
        vis = np.where(vis_rng.random(n_gts) < 0.5, np.inf, vis_rng.uniform(0.1, 1.0, n_gts))
        cam, frame = 17 + i % 10, i // 10 + 1
        images.append((osp.join(HDA_LAYOUT['frames'], camera_name(cam), frame_filename(frame)),
                       dets, scores, gts[~ignore], gts[ignore], vis[~ignore].astype(np.float32),
                       hda_img_id(cam, frame)))
    return images


def write_release(root, images):
    """The images' persons as GtAnnotationsAll, and vbb files giving the frame counts."""
    by_cam = {}
    for path, _, _, gts, _, _, img_id in images:
        cam, frame = hda_frame_of(dict(img_id=img_id))
        by_cam.setdefault(cam, []).append((frame, gts))
    os.makedirs(osp.join(root, HDA_LAYOUT['ann']), exist_ok=True)
    for cam, items in by_cam.items():
        with open(osp.join(root, HDA_LAYOUT['ann'], f'{camera_name(cam)}.txt'), 'w') as f:
            f.write(dump_vbb(VbbAnnotation(n_frames=max(fr for fr, _ in items))))
        frames = np.concatenate([np.full(len(g), fr) for fr, g in items])
        boxes = np.concatenate([g for _, g in items]).astype(np.float64)
        boxes[:, 2:] -= boxes[:, :2]
        write_alld(alld_path(root, 'GtAnnotationsAll', cam), cam, frames, boxes,
                   np.zeros(len(boxes)))


def old_single_mr2(args):
    """Seconds of the single MR-2 of this benchmark at ``args.compare_commit``."""
    import re
    import shutil
    import subprocess
    root = osp.dirname(osp.dirname(osp.abspath(__file__)))
    tree = tempfile.mkdtemp(prefix='hda_bench_old_')
    subprocess.run(['git', '-C', root, 'worktree', 'add', '--detach', '-f', tree,
                    args.compare_commit], check=True, capture_output=True)
    try:
        out = subprocess.run(
            [sys.executable, osp.join(tree, 'benchmarks', 'benchmark_miss_rate.py'),
             '--images', str(args.images), '--dets', str(args.dets), '--gts', str(args.gts)],
            cwd=tree, check=True, capture_output=True, text=True).stdout
    finally:
        subprocess.run(['git', '-C', root, 'worktree', 'remove', '--force', tree],
                       capture_output=True)
        shutil.rmtree(tree, ignore_errors=True)
    found = re.search(r'MissRateMetric \(match \+ curve \+ MR-2[^:]*: ([\d.]+) s \(MR-2 ([\d.]+)',
                      out)
    if not found:
        raise RuntimeError(f'no MissRateMetric time in the output of {args.compare_commit}:\n{out}')
    return float(found.group(1)), float(found.group(2))


def samples(images):
    out = []
    for path, dets, scores, gts, ign, vis, img_id in images:
        out.append(dict(
            img_path=path, img_id=img_id,
            pred_instances=dict(bboxes=torch.from_numpy(dets), scores=torch.from_numpy(scores),
                                labels=torch.zeros(len(dets), dtype=torch.long)),
            gt_instances=dict(bboxes=torch.from_numpy(gts), visibility=torch.from_numpy(vis),
                              labels=torch.zeros(len(gts), dtype=torch.long)),
            ignored_instances=dict(bboxes=torch.from_numpy(ign),
                                   labels=torch.zeros(len(ign), dtype=torch.long))))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--images', type=int, default=10000)
    p.add_argument('--dets', type=int, default=100)
    p.add_argument('--gts', type=int, default=6)
    p.add_argument('--compare-commit', help='git revision whose MissRateMetric to time too')
    args = p.parse_args()
    t_old = old_single_mr2(args) if args.compare_commit else None
    images = make_data(args.images, args.dets, args.gts)
    data_samples = samples(images)

    tmp = tempfile.mkdtemp(prefix='hda_bench_')
    write_release(tmp, images)

    def timed(metric):
        metric.dataset_meta = dict(classes=('person', ), data_root=tmp)
        t = time.perf_counter()
        metric.process({}, data_samples)
        res = metric.compute_metrics(metric.results)
        return time.perf_counter() - t, res

    t_mr, res = timed(CaltechMetric(aspect_ratio=0.41))
    t_set, res_set = timed(CaltechMetric(aspect_ratio=0.41, settings=list(DOLLAR_SETTINGS)))
    t_hda, res_hda = timed(HDABenchmarkMetric())

    dets = [[np.hstack([d, s[:, None]])] for _, d, s, *_ in images]
    anns = [dict(bboxes=g, labels=np.zeros(len(g), dtype=np.int64), bboxes_ignore=i,
                 labels_ignore=np.zeros(len(i), dtype=np.int64)) for _, _, _, g, i, *_ in images]
    times = {}
    for nproc in (4, 1):
        t = time.perf_counter()
        ap, _ = eval_map(dets, anns, iou_thr=0.5, eval_mode='area', nproc=nproc,
                         logger='silent')
        times[nproc] = time.perf_counter() - t
    print('=' * 72)
    print(f'{args.images} images x {args.dets} detections, {args.gts} persons per image '
          '(1 in 6 an ignore region)')
    print(f'  CaltechMetric, one MR-2 (overall and 10 cameras): {t_mr:.2f} s '
          f'(MR-2 {res["MR-2"]:.3f})')
    print(f'  CaltechMetric, {len(DOLLAR_SETTINGS)} settings x MR-2 + MR-4 '
          f'(overall and 10 cameras): {t_set:.2f} s (Reasonable MR-2 '
          f'{res_set["Reasonable/MR-2"]:.3f})')
    print(f'  HDABenchmarkMetric (reads 10 ground-truth allD.txt): {t_hda:.2f} s '
          f'(MR-2 {res_hda["MR-2"]:.3f})')
    print(f'  all settings + both protocols / one MR-2: {(t_set + t_hda) / t_mr:.2f}')
    if t_old:
        print(f'  MissRateMetric at {args.compare_commit}, one MR-2: {t_old[0]:.2f} s (MR-2 '
              f'{t_old[1]:.3f}); all settings + both protocols now / that: '
              f'{(t_set + t_hda) / t_old[0]:.2f}')
    print(f'  mmdet eval_map, nproc=4 (VOCMetric default): {times[4]:.2f} s (AP {ap:.3f})')
    print(f'  mmdet eval_map, nproc=1: {times[1]:.2f} s')
    print(f'  ratio CaltechMetric (one MR-2) / eval_map: {t_mr / times[4]:.2f} (nproc=4), '
          f'{t_mr / times[1]:.2f} (nproc=1)')
    print('=' * 72)


if __name__ == '__main__':
    main()
