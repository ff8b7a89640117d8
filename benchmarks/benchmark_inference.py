"""End-to-end inference speed of tools/infer.py: PyTorch eager vs ONNX Runtime, side by side.

    python benchmarks/benchmark_inference.py [--frames 12] [--models demo ssd512] \
        [--sizes 640x480 1280x800 2560x1600] [--device cpu|cuda] [--rss 100 5000]

For each model (the CPU demo config and SSD-512 VGG16, seeded random weights: speed does
not depend on what the weights learnt, and both backends get the same checkpoint) and
each frame size, a synthetic .seq of ``--frames`` JPEG frames goes through the code of
tools/infer.py (.seq decoding, the config's test preprocessing, the model, decoding and
NMS, allD.txt / COCO writing), untiled (--tile off), once in PyTorch eager mode and once
through the exported ONNX graph in ONNX Runtime, each with its default threading (PyTorch:
one intra-op thread per core; ONNX Runtime: its default intra-op pool). The first batch
of each run is a warm-up and not counted. Prints frames/s end to end and ms per frame per
stage, and the ORT / PyTorch ratio.

``--rss N M``: tools/infer.py in a fresh process on a .seq of N and of M frames (640x480,
demo model), each printing its peak resident memory: flat when frames are streamed.
"""
import argparse
import os
import os.path as osp
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
import hda_plugin  # noqa: E402,F401
from hda_plugin.deployment import export_onnx, input_size_of  # noqa: E402
from hda_plugin.fileio.coco_results import CocoWriter  # noqa: E402
from hda_plugin.fileio.seq import write_seq  # noqa: E402
from hda_plugin.inference import InferenceRunner, build_backend, open_inputs  # noqa: E402
from hda_plugin.inference.runner import STAGES  # noqa: E402
from hda_plugin.testing import render_camera  # noqa: E402
from hda_plugin.testing.weights import random_checkpoint  # noqa: E402
from hda_plugin.utils.table import format_table  # noqa: E402

CONFIGS = dict(
    demo=osp.join(ROOT, 'configs', 'ssdlite_mobilenetv2-w0.5_1xb8-1150it_synthetic-hda-cpu.py'),
    ssd512=osp.join(ROOT, 'configs', 'ssd512_hda.py'))
SIZES = {'640x480': 17, '1280x800': 50, '2560x1600': 60}  # the HDA camera of each size


def make_checkpoint(name, out_file):
    return random_checkpoint(CONFIGS[name], out_file, cls_std=0.3 if name == 'demo' else 0.001)


def make_seq(path, size, n, seed=0):
    w, h = (int(v) for v in size.split('x'))
    frames, _ = render_camera(np.random.RandomState(seed), w, h, min(n, 24))
    return write_seq(path, (frames[i % len(frames)] for i in range(n)), quality=90)


def run_once(backend, seq, out_dir, name, batch):
    runner = InferenceRunner(backend, out_dir, name, tile='off', batch_size=batch,
                             progress=False)
    # warm-up: one batch (allocations, ONNX Runtime's first run), not counted
    it = iter(open_inputs([seq])[0])
    runner.detect([next(it).image for _ in range(batch)])
    it.close()
    src = open_inputs([seq])[0]
    for k in runner.times:
        runner.times[k] = 0.0
    coco = CocoWriter(osp.join(out_dir, f'{name}.json'))
    start = time.perf_counter()
    res = runner.run_source(src, coco)  # a fresh pass over every frame
    wall = time.perf_counter() - start
    coco.commit()
    return res.frames / wall, {k: 1000 * v / res.frames for k, v in runner.times.items()}


def bench(args, tmp):
    rows = []
    for model in args.models:
        ckpt = osp.join(tmp, f'{model}.pth')
        cfg = make_checkpoint(model, ckpt)
        onnx_file = osp.join(tmp, f'{model}.onnx')
        pt = build_backend('pytorch', cfg, ckpt, args.device)
        export_onnx(pt.model.cpu(), onnx_file, input_size_of(cfg))
        pt = build_backend('pytorch', cfg, ckpt, args.device)
        backends = [pt]
        try:
            backends.append(build_backend('onnxruntime', cfg, onnx_file, args.device))
        except RuntimeError as e:  # --device cuda without onnxruntime-gpu
            print(f'  onnxruntime rows left out: {e}', flush=True)
        for size in args.sizes:
            cam = SIZES.get(size, 17)
            seq = osp.join(tmp, f'camera{cam}_{size}.seq')
            if not osp.exists(seq):
                make_seq(seq, size, args.frames)
            fps = {}
            for backend in backends:
                f, ms = run_once(backend, seq, osp.join(tmp, 'out'), f'{model}_{size}_'
                                 f'{backend.name}', args.batch_size)
                fps[backend.name] = f
                rows.append([model, size, backend.name, f'{f:.2f}'] +
                            [f'{ms[s]:.1f}' for s in STAGES] + [''])
                print(f'  {model} {size} {backend.name}: {f:.2f} frames/s', flush=True)
            if 'onnxruntime' in fps:
                rows[-1][-1] = f'{fps["onnxruntime"] / fps["pytorch"]:.2f}x'
    return rows


def rss(args, tmp):
    ckpt = osp.join(tmp, 'demo_rss.pth')
    make_checkpoint('demo', ckpt)
    rows = []
    for n in args.rss:
        seq = osp.join(tmp, f'camera17_{n}.seq')
        make_seq(seq, '640x480', n)
        p = subprocess.run([sys.executable, osp.join(ROOT, 'tools', 'infer.py'), CONFIGS['demo'],
                            ckpt, seq, '--out-dir', osp.join(tmp, f'rss{n}'), '--no-progress',
                            '--tile', 'off'], capture_output=True, text=True)
        if p.returncode:
            raise RuntimeError(p.stdout + p.stderr)
        m = re.search(r'(\d+) frames, (\d+) detections in ([\d.]+) s: ([\d.]+) frames/s end '
                      r'to end; peak RSS (\d+) MiB', p.stdout)
        rows.append([n, m.group(2), m.group(4), m.group(5)])
        print(f'  {n} frames: peak RSS {m.group(5)} MiB', flush=True)
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--frames', type=int, default=12, help='frames per run (after warm-up)')
    p.add_argument('--models', nargs='+', default=['demo', 'ssd512'], choices=list(CONFIGS))
    p.add_argument('--sizes', nargs='+', default=list(SIZES))
    p.add_argument('--batch-size', type=int, default=4)
    p.add_argument('--device', default='cpu')
    p.add_argument('--rss', nargs='*', type=int, help='peak RSS of tools/infer.py on .seq '
                   'files of these frame counts instead of the speed table')
    args = p.parse_args()
    import torch
    with tempfile.TemporaryDirectory() as tmp:
        if args.rss:
            rows = rss(args, tmp)
            head = ['frames', 'detections', 'frames/s', 'peak RSS MiB']
            title = 'tools/infer.py, demo model, 640x480 .seq, --tile off, one process each'
        else:
            rows = bench(args, tmp)
            head = ['model', 'frames', 'backend', 'frames/s'] + [f'{s} ms' for s in STAGES] \
                + ['ORT/PT']
            title = (f'end to end, {args.frames} frames per run after a warm-up batch, batch '
                     f'{args.batch_size}, --tile off, device {args.device}, torch '
                     f'{torch.__version__} ({torch.get_num_threads()} threads), '
                     f'{os.cpu_count()} CPUs')
    print('=' * 72)
    print(title)
    print('\n'.join(format_table(head, rows)))
    print('=' * 72)


if __name__ == '__main__':
    main()
