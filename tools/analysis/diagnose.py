"""Dry-run a training config and say whether training it would be useful.

    python tools/analysis/diagnose.py configs/ssd512_hda.py [--iters 5] [--batch-size 2]
        [--shrink 0.5] [--cfg-options k=v ...] [--json report.json]

Builds the config (``--cfg-options`` checked as in tools/train.py), runs the before-training
checks (DatasetSanityHook, AnchorCoverageHook), then ``--iters`` training iterations with
PositiveAnchorHook, NonFiniteLossHook, DivergenceHook and WeightHealthHook watching every
iteration, and prints one report.
Nothing is saved but the log (in a temporary work dir unless ``--work-dir``).

Exit status: 0 when healthy (warnings allowed), 1 when a problem would make training
useless (no ground truth reaching the loss, labels out of range, anchors that fit almost
no box, a non-finite loss, a crash), 2 for a usage error.

``--shrink F`` scales the training input (the pipeline's Resize) and the anchor sizes by F
for faster iterations on a CPU. The feature strides do not shrink, so the anchor-coverage
check measures the config's own anchors at full input size instead.
"""
import argparse
import copy
import json
import sys
import tempfile
import time
import traceback

from mmengine.hooks import Hook
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import hda_plugin  # noqa: F401  (registers components, applies hda_plugin.compat)
from hda_plugin.engine.hooks import DiagnosticHook, Finding, TrainingDiagnosisError
from hda_plugin.utils import inner_dataset_cfg
from hda_plugin.utils.cli import add_common_args, config_from_args

BEFORE_TRAIN = ('DatasetSanityHook', 'AnchorCoverageHook')
DURING_TRAIN = ('PositiveAnchorHook', 'NonFiniteLossHook', 'DivergenceHook', 'WeightHealthHook')


class _SkipIterations(Exception):
    """Raised by :class:`_Gate` when the before-training checks found an error."""


class _Gate(Hook):
    """Runs after the before-training checks; stops before iteration 1 on an error."""
    priority = 'LOWEST'

    def before_train(self, runner):
        if any(isinstance(h, DiagnosticHook) and h.has_errors for h in runner.hooks):
            raise _SkipIterations()


class _Recorder(Hook):
    """Loss and time per iteration."""
    priority = 'VERY_LOW'

    def __init__(self):
        self.losses, self.times = [], []
        self._t = None

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self._t = time.perf_counter()

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.times.append(time.perf_counter() - self._t)
        loss = (outputs or {}).get('loss')
        if loss is not None:
            self.losses.append(float(loss))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config', help='train config file path')
    p.add_argument('--iters', type=int, default=5, help='training iterations to run')
    p.add_argument('--batch-size', type=int, default=2, help='images per iteration')
    p.add_argument('--shrink', type=float, default=1.0,
                   help='scale the training input and the anchors by this factor')
    p.add_argument('--json', help='also write the findings to this JSON file')
    return add_common_args(p).parse_args()


def shrink(cfg, factor: float) -> None:
    """Scales the training Resize and the anchor sizes by ``factor`` (in place)."""
    for t in inner_dataset_cfg(cfg.train_dataloader.dataset).get('pipeline', []):
        if 'Resize' in t.get('type', '') and t.get('scale') is not None:
            t['scale'] = tuple(max(int(round(s * factor)), 1) for s in t['scale'])
    ag = cfg.model.get('bbox_head', {}).get('anchor_generator', {})
    if ag.get('min_sizes'):
        ag['min_sizes'] = [s * factor for s in ag['min_sizes']]
        ag['max_sizes'] = [s * factor for s in ag['max_sizes']]
    elif 'input_size' in ag:
        ag['input_size'] = int(round(ag['input_size'] * factor))
    elif 'octave_base_scale' in ag:
        ag['octave_base_scale'] = ag['octave_base_scale'] * factor


def dry_run_config(cfg, args):
    """The config as the dry run uses it: few iterations, no validation, no checkpoints,
    every diagnostic hook on and collecting instead of stopping."""
    cfg = copy.deepcopy(cfg)
    cfg.work_dir = args.work_dir or tempfile.mkdtemp(prefix='hda_diagnose_')
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=args.iters,
                         val_interval=args.iters + 1)
    for key in ('val_cfg', 'val_dataloader', 'val_evaluator', 'test_cfg', 'test_dataloader',
                'test_evaluator'):
        cfg[key] = None
    cfg.load_from, cfg.resume = cfg.get('load_from'), False
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    # Epoch-based schedules never step in a few iterations; iteration-based ones (warmup)
    # set the learning rate the real run starts with, so they stay.
    scheds = cfg.get('param_scheduler') or []
    scheds = scheds if isinstance(scheds, (list, tuple)) else [scheds]
    cfg.param_scheduler = [s for s in scheds if not s.get('by_epoch', True)] or None
    dl = cfg.train_dataloader
    dl.batch_size = args.batch_size
    dl.num_workers = 0
    dl.persistent_workers = False
    dl.pop('prefetch_factor', None)
    cfg.custom_hooks = [h for h in cfg.get('custom_hooks', [])
                        if h['type'] != 'ZeroAPDiagnosisHook']
    present = {h['type'] for h in cfg.custom_hooks}
    for name in BEFORE_TRAIN + DURING_TRAIN:
        if name not in present:
            cfg.custom_hooks.append(dict(type=name))
    for h in cfg.custom_hooks:
        if h['type'] in BEFORE_TRAIN + DURING_TRAIN:
            h['stop_on_error'] = False
        if h['type'] == 'PositiveAnchorHook':
            h['patience'] = min(h.get('patience', 20), args.iters)
        if h['type'] == 'WeightHealthHook':
            h['interval'] = 1
            h['collapse_window'] = min(h.get('collapse_window', 5), max(args.iters - 1, 1))
    if args.shrink != 1.0:
        anchors = copy.deepcopy(cfg.model.get('bbox_head', {}).get('anchor_generator'))
        shrink(cfg, args.shrink)
        for h in cfg.custom_hooks:  # coverage is judged at full size, see the docstring
            if h['type'] == 'AnchorCoverageHook' and anchors:
                h.update(anchor_generator=anchors, input_scale=1.0 / args.shrink)
    return cfg


def main():
    args = parse_args()
    cfg = config_from_args(args)
    run_cfg = dry_run_config(cfg, args)
    findings, recorder, crash, skipped = [], _Recorder(), None, False
    runner = None
    try:
        runner = Runner.from_cfg(run_cfg) if 'runner_type' not in run_cfg \
            else RUNNERS.build(run_cfg)
        runner.register_hook(recorder)
        runner.register_hook(_Gate())
        runner.train()
    except _SkipIterations:
        skipped = True
    except TrainingDiagnosisError:
        pass  # recorded by the hook that raised it
    except Exception as e:  # noqa: BLE001  a crash is a finding, with its cause
        crash = f'{type(e).__name__}: {e}'
        findings.append(Finding('training', 'error', f'the dry run crashed: {crash}\n' +
                                ''.join(traceback.format_exc().splitlines(True)[-6:])))
    hooks = [h for h in (runner.hooks if runner else []) if isinstance(h, DiagnosticHook)]
    for h in hooks:
        findings.extend(h.findings)
    print(report(args, hooks, findings, recorder, skipped))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(config=args.config, healthy=not _errors(findings),
                           findings=[f._asdict() for f in findings],
                           losses=recorder.losses, iter_times=recorder.times), f, indent=1)
    sys.exit(1 if _errors(findings) else 0)


def _errors(findings):
    return [f for f in findings if f.severity == 'error']


def report(args, hooks, findings, recorder, skipped) -> str:
    bar = '=' * 78
    lines = [bar, f'hda-ssd diagnose: {args.config}', bar]
    n = len(recorder.losses)
    if skipped:
        lines.append('iterations : skipped (the before-training checks found an error)')
    elif n:
        t = sum(recorder.times[1:]) / max(n - 1, 1) if n > 1 else recorder.times[0]
        lines.append(f'iterations : {n} of {args.iters} run (batch {args.batch_size}'
                     f'{f", shrink {args.shrink}" if args.shrink != 1 else ""}), loss '
                     f'{recorder.losses[0]:.4g} -> {recorder.losses[-1]:.4g}, {t:.2f} s/iter')
    else:
        lines.append('iterations : none run')
    for h in hooks:
        summary = getattr(h, 'summary', None)
        if summary:
            lines.append(f'positives  : {summary["pos_per_img"]:.1f} anchors/image, '
                         f'{summary["gt_per_img"]:.1f} GT/image, {summary["gt_matched"]:.0%} '
                         f'of GT matched at pos_iou_thr, {summary["zero_pos_iters"]} '
                         'iterations without a positive')
    lines.append('-' * 78)
    checked = {f.check for f in findings}
    for f in findings:
        if f.severity == 'info':
            continue
        lines.append(f'[{f.severity.upper()}] {f.check}: {f.message}')
    for h in hooks:
        if h.check_name not in checked or not any(
                f.severity != 'info' for f in findings if f.check == h.check_name):
            own = [f for f in findings if f.check == h.check_name]
            state = 'off' if not h.enabled else (
                'not reached' if skipped and h.check_name in DURING_TRAIN else
                'skipped' if any(f.message.endswith('skipped.') for f in own) else 'ok')
            lines.append(f'[{state.upper()}] {h.check_name}')
    errors = _errors(findings)
    warnings = [f for f in findings if f.severity == 'warning']
    lines.append('-' * 78)
    if errors:
        lines.append(f'verdict: PROBLEM ({len(errors)} error(s), {len(warnings)} warning(s)):'
                     ' training this config as it is would be useless; fix the errors above.')
    else:
        lines.append(f'verdict: HEALTHY ({len(warnings)} warning(s)).')
    lines.append(bar)
    return '\n'.join(lines)


if __name__ == '__main__':
    main()
