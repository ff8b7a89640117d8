"""Building CaltechDataset's test split against reading its .vbb files once.

Writes a synthetic release the size of Caltech's test split: 10 videos, two of each of
set06-set10, whose frame counts give ``range(29, n, 30)`` 4,024 frames in all (the standard
test images), binary vbb annotations with Caltech-like tracks (about 1.5 boxes a frame), and
``.seq`` videos of tiny JPEG frames whose header says 640x480 (no frame is decoded when the
split is built, so the frames' size does not matter). Then times, over a few runs:

(a) reading every ``.vbb`` once with ``load_any_vbb``;
(b) building ``CaltechDataset(split='test')`` (headers of the ``.seq``, the ``.vbb``, the
    data list), with no pipeline.

    python benchmarks/benchmark_caltech_split.py [--runs 5] [--root /tmp/caltech_bench]
"""
import argparse
import logging
import os
import os.path as osp
import statistics
import struct
import tempfile
import time

import numpy as np

TEST_IMAGES = 4024


def frame_counts():
    """10 frame counts n with sum(len(range(29, n, 30))) == 4,024 (402 or 403 each)."""
    per = [TEST_IMAGES // 10 + (1 if i < TEST_IMAGES % 10 else 0) for i in range(10)]
    return [30 * k + 5 for k in per]  # range(29, 30k + 5, 30) has k elements


def tracks(n, rng):
    from hda_plugin.fileio.vbb import VbbObject
    labels = ['person'] * 8 + ['people', 'person?']
    out, covered = [], 0
    while covered < 1.5 * n:
        length = int(rng.integers(30, 300))
        start = int(rng.integers(1, max(2, n - length)))
        end = min(n, start + length - 1)
        k = end - start + 1
        x = rng.uniform(0, 600) + np.cumsum(rng.normal(0, 1, k))
        h = rng.uniform(30, 150)
        pos = np.stack([x, np.full(k, 200.), np.full(k, h * 0.41), np.full(k, h)], 1)
        occl = (rng.random(k) < 0.2).astype(np.int64)
        posv = pos * occl[:, None] * np.array([1, 1, 1, 0.5])
        out.append(VbbObject(str(rng.choice(labels)), start, end, 0, pos, posv, occl,
                             np.zeros(k, np.int64)))
        covered += k
    return out


def write_release(root):
    import cv2

    from hda_plugin.fileio.caltech_layout import annotation_candidates, seq_path
    from hda_plugin.fileio.vbb import VbbAnnotation
    from hda_plugin.testing.caltech_release import dump_vbb_mat
    rng = np.random.default_rng(0)
    jpeg = cv2.imencode('.jpg', np.full((8, 8, 3), 128, np.uint8))[1].tobytes()
    vids = [(s, v) for s in range(6, 11) for v in range(2)]
    for (s, v), n in zip(vids, frame_counts()):
        path = seq_path(root, s, v)
        os.makedirs(osp.dirname(path), exist_ok=True)
        from hda_plugin.fileio.seq import write_seq
        write_seq(path, [np.full((8, 8, 3), 128, np.uint8)], fps=30.0)
        with open(path, 'r+b') as f:  # n frames of the same tiny JPEG, header 640x480
            f.seek(1024)
            frame = struct.pack('<I', len(jpeg) + 4) + jpeg + b'\0' * 8
            f.write(frame * n)
            f.seek(548)
            f.write(struct.pack('<9I', 640, 480, 24, 8, 640 * 480 * 3, 102, n, 0,
                                640 * 480 * 3))
        dump_vbb_mat(VbbAnnotation(n, tracks(n, rng), np.zeros(0)),
                     annotation_candidates(root, s, v)[0])
    return vids


def timed(fn, runs):
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--root', default=None, help='release folder (a temporary one if unset)')
    args = ap.parse_args()
    from mmengine.logging import MMLogger

    import hda_plugin  # noqa: F401
    from hda_plugin.datasets.caltech_dataset import CaltechDataset
    from hda_plugin.fileio.caltech_layout import annotation_path
    from hda_plugin.fileio.vbb_mat import load_any_vbb
    MMLogger.get_current_instance().setLevel(logging.WARNING)  # no summary per run
    root = args.root or tempfile.mkdtemp(prefix='caltech_bench_')
    vids = write_release(root)
    paths = [annotation_path(root, s, v) for s, v in vids]
    n_boxes = sum(len(o.pos) for p in paths for o in load_any_vbb(p).objects)
    ds = CaltechDataset(data_root=root, split='test', test_mode=True)
    assert len(ds) == TEST_IMAGES, len(ds)
    a = timed(lambda: [load_any_vbb(p) for p in paths], args.runs)
    b = timed(lambda: CaltechDataset(data_root=root, split='test', test_mode=True),
              args.runs)
    print(f'{len(vids)} videos, {sum(frame_counts())} frames, {n_boxes} boxes, '
          f'{len(ds)} test images; {args.runs} runs, seconds (min / median / max)')
    for name, t in (('(a) read every .vbb once', a), ('(b) build the test split', b)):
        print(f'{name:28s} {min(t):.3f} / {statistics.median(t):.3f} / {max(t):.3f}')
    print(f'ratio (b) / (a), medians: {statistics.median(b) / statistics.median(a):.2f}')


if __name__ == '__main__':
    main()
