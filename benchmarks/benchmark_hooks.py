"""Overhead of the default diagnostic hooks on training iteration time (demo config, CPU).

    python benchmarks/benchmark_hooks.py [--iters 100] [--repeats 2] [--data DIR]

Trains the CPU demo config twice per repeat, alternating: with the HDA configs' default
hooks, and with the hda_plugin diagnostic hooks removed (MMDetection's own
NumClassCheckHook and CheckInvalidLossHook stay in both). Same seed, so both variants see
the same batches. The first ``--warmup`` iterations of each run are not counted. Prints
mean time per iteration for each variant, the overhead in percent, and the one-off time
of the before-training checks.
"""
import argparse
import copy
import os.path as osp
import sys
import tempfile
import time

from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
import hda_plugin  # noqa: E402,F401
from hda_plugin.datasets.frames import extract_release  # noqa: E402
from hda_plugin.datasets.synthetic_hda import make_synthetic_hda  # noqa: E402

DEMO = osp.join(ROOT, 'configs', 'ssdlite_mobilenetv2-w0.5_1xb8-1150it_synthetic-hda-cpu.py')
DIAGNOSTIC = ('DatasetSanityHook', 'AnchorCoverageHook', 'PositiveAnchorHook',
              'WeightHealthHook', 'ZeroAPDiagnosisHook')
CAMERAS = [17, 18, 50]


class IterTimes(Hook):
    priority = 'VERY_HIGH'

    def __init__(self):
        self.times, self.before_train_s = [], None
        self._t = None

    def before_run(self, runner):
        self._t0 = time.perf_counter()

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if self.before_train_s is None:  # everything from before_run up to iteration 1
            self.before_train_s = time.perf_counter() - self._t0
        self._t = time.perf_counter()

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.times.append(time.perf_counter() - self._t)


def run(base: Config, hooks: bool, iters: int, work_dir: str) -> IterTimes:
    cfg = copy.deepcopy(base)
    cfg.work_dir = work_dir
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters, val_interval=iters + 1)
    for key in ('val_cfg', 'val_dataloader', 'val_evaluator', 'test_cfg', 'test_dataloader',
                'test_evaluator'):
        cfg[key] = None
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
    cfg.default_hooks.checkpoint = None
    cfg.randomness = dict(seed=0)
    if not hooks:
        cfg.custom_hooks = [h for h in cfg.custom_hooks if h['type'] not in DIAGNOSTIC]
    timer = IterTimes()
    runner = Runner.from_cfg(cfg)
    runner.register_hook(timer)
    runner.train()
    return timer


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--iters', type=int, default=100)
    p.add_argument('--warmup', type=int, default=10)
    p.add_argument('--repeats', type=int, default=2)
    p.add_argument('--data', help='synthetic HDA release (made in a temp dir if not given)')
    args = p.parse_args()

    data = args.data
    if data is None:
        data = tempfile.mkdtemp(prefix='hda_bench_')
        make_synthetic_hda(data, CAMERAS, frames=40, seed=0, progress=False)
        extract_release(data, CAMERAS, progress=False)
    base = Config.fromfile(DEMO)
    base.train_dataloader.dataset.dataset.data_root = data
    base.train_dataloader.dataset.dataset.cameras = CAMERAS
    base.log_level = 'WARNING'

    results = {True: [], False: []}
    before = {True: [], False: []}
    for r in range(args.repeats):
        for hooks in (True, False) if r % 2 == 0 else (False, True):
            t = run(base, hooks, args.iters, tempfile.mkdtemp(prefix='hda_bench_work_'))
            results[hooks].extend(t.times[args.warmup:])
            before[hooks].append(t.before_train_s)
            print(f'repeat {r + 1}, hooks {"on " if hooks else "off"}: '
                  f'{sum(t.times[args.warmup:]) / len(t.times[args.warmup:]):.4f} s/iter',
                  flush=True)
    on = sum(results[True]) / len(results[True])
    off = sum(results[False]) / len(results[False])
    print('=' * 70)
    print(f'demo config, batch {base.train_dataloader.batch_size}, {args.iters} iterations x '
          f'{args.repeats} runs per variant ({args.warmup} warmup iterations dropped)')
    print(f'  diagnostic hooks off : {off:.4f} s/iter')
    print(f'  diagnostic hooks on  : {on:.4f} s/iter')
    print(f'  overhead             : {100 * (on / off - 1):+.2f} %')
    print(f'  before training (run start to iteration 1): on '
          f'{sum(before[True]) / len(before[True]):.2f} s, off '
          f'{sum(before[False]) / len(before[False]):.2f} s')
    print('=' * 70)


if __name__ == '__main__':
    main()
