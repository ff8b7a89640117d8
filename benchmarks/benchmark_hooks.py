"""Overhead of the default diagnostic hooks on training iteration time (demo config, CPU).

    python benchmarks/benchmark_hooks.py [--iters 400] [--block 10] [--data DIR]

One training run of the CPU demo config with the HDA configs' default hooks, in blocks of
``--block`` iterations that alternate between the hda_plugin diagnostic hooks switched on
and off (their ``enabled`` flag, honoured at run time). The baseline is MMDetection's stock
SSD hooks: NumClassCheckHook and CheckInvalidLossHook (which NonFiniteLossHook replaces in
the HDA configs) stay on throughout, so the overhead is counted against what a stock
config runs. Alternating blocks inside one process cancel the
drift between separate runs (CPU clocks, page cache, the data worker), which on a 2-core
machine is larger than the effect measured. The first ``--warmup`` iterations are not
counted. Prints the mean and median time per iteration with the hooks on and off, the
overhead in percent, and the one-off time of the before-training checks.
"""
import argparse
import copy
import os.path as osp
import statistics
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
from hda_plugin.testing import make_synthetic_hda  # noqa: E402

DEMO = osp.join(ROOT, 'configs', 'ssdlite_mobilenetv2-w0.5_1xb8-1150it_synthetic-hda-cpu.py')
DIAGNOSTIC = ('DatasetSanityHook', 'AnchorCoverageHook', 'PositiveAnchorHook',
              'NonFiniteLossHook', 'DivergenceHook', 'WeightHealthHook', 'ZeroAPDiagnosisHook')
CAMERAS = [17, 18, 50]


class AlternateHooks(Hook):
    """Switches the diagnostic hooks on and off in blocks and times every iteration."""
    priority = 'HIGHEST'

    def __init__(self, block: int, warmup: int):
        self.block, self.warmup = block, warmup
        self.times = {True: [], False: []}
        self.hooks = []
        self._t = None

    def before_train(self, runner):
        self.hooks = [h for h in runner.hooks if type(h).__name__ in DIAGNOSTIC]

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        # One iteration = from one before_train_iter to the next: data loading, the step
        # and every hook's after_train_iter work are all inside it.
        now = time.perf_counter()
        if self._t is not None and runner.iter - 1 >= self.warmup:
            self.times[self.on].append(now - self._t)
        self.on = (runner.iter // self.block) % 2 == 0
        for h in self.hooks:
            h.enabled = self.on
        self._t = now


class BeforeTrainTimer(Hook):
    priority = 'HIGHEST'

    def before_train(self, runner):
        self.t0 = time.perf_counter()

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if not hasattr(self, 'seconds'):
            self.seconds = time.perf_counter() - self.t0


def build_cfg(base: Config, iters: int, work_dir: str) -> Config:
    cfg = copy.deepcopy(base)
    cfg.work_dir = work_dir
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters, val_interval=iters + 1)
    for key in ('val_cfg', 'val_dataloader', 'val_evaluator', 'test_cfg', 'test_dataloader',
                'test_evaluator'):
        cfg[key] = None
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
    cfg.default_hooks.checkpoint = None
    cfg.randomness = dict(seed=0)
    # the stock SSD configs' own check, the baseline the diagnostic hooks are measured on
    cfg.custom_hooks = list(cfg.custom_hooks) + [
        dict(type='CheckInvalidLossHook', interval=50, priority='VERY_LOW')]
    return cfg


def before_train_seconds(base: Config, hooks: bool) -> float:
    cfg = build_cfg(base, 1, tempfile.mkdtemp(prefix='hda_bench_work_'))
    if not hooks:
        cfg.custom_hooks = [h for h in cfg.custom_hooks if h['type'] not in DIAGNOSTIC]
    timer = BeforeTrainTimer()
    runner = Runner.from_cfg(cfg)
    runner.register_hook(timer)
    runner.train()
    return timer.seconds


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--iters', type=int, default=400)
    p.add_argument('--block', type=int, default=10)
    p.add_argument('--warmup', type=int, default=20)
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

    alt = AlternateHooks(args.block, args.warmup)
    runner = Runner.from_cfg(build_cfg(base, args.iters, tempfile.mkdtemp(prefix='hda_bench_')))
    runner.register_hook(alt)
    runner.train()
    on, off = alt.times[True], alt.times[False]
    mean_on, mean_off = sum(on) / len(on), sum(off) / len(off)
    med_on, med_off = statistics.median(on), statistics.median(off)
    before_on, before_off = before_train_seconds(base, True), before_train_seconds(base, False)
    print('=' * 72)
    print(f'demo config, batch {base.train_dataloader.batch_size}, {args.iters} iterations in '
          f'blocks of {args.block}, hooks on/off alternating ({args.warmup} warmup dropped)')
    print(f'  diagnostic hooks off : mean {mean_off:.4f} s/iter, median {med_off:.4f} '
          f'({len(off)} iterations)')
    print(f'  diagnostic hooks on  : mean {mean_on:.4f} s/iter, median {med_on:.4f} '
          f'({len(on)} iterations)')
    print(f'  overhead             : {100 * (mean_on / mean_off - 1):+.2f} % (means), '
          f'{100 * (med_on / med_off - 1):+.2f} % (medians)')
    print(f'  before training (one-off; DatasetSanityHook + AnchorCoverageHook): '
          f'{before_on - before_off:+.2f} s ({before_on:.2f} s with, {before_off:.2f} s '
          'without)')
    print('=' * 72)


if __name__ == '__main__':
    main()
