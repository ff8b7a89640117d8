"""Train a detector, with MMDetection 3.3.0's ``tools/train.py`` interface.

    python tools/train.py configs/ssd512_hda.py [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--auto-scale-lr] [--cfg-options k=v ...] [--launcher none|pytorch|slurm|mpi]
    tools/dist_train.sh configs/ssd512_hda.py 4          # 4 GPUs (or 4 CPU processes, gloo)

Learning rate: configs are written for 8 GPUs x 8 images (``auto_scale_lr.base_batch_size``);
pass ``--auto-scale-lr`` to scale it linearly with your total batch size.
"""
import argparse
import sys

from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import hda_plugin  # noqa: F401  (registers components, applies hda_plugin.compat)
from hda_plugin.compat import init_cpu_distributed
from hda_plugin.engine.work_dir_lock import WorkDirInUseError, work_dir_lock
from hda_plugin.utils.cli import add_common_args, config_from_args
from hda_plugin.weights.report import explain_weights


def parse_args():
    parser = argparse.ArgumentParser(description='Train a detector')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--amp', action='store_true', default=False,
                        help='enable automatic-mixed-precision training')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='enable automatically scaling LR.')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='If specify checkpoint path, resume from it, while if not specify, try to auto '
        'resume from the latest checkpoint in the work directory.')
    return add_common_args(parser).parse_args()


def main():
    args = parse_args()
    cfg = config_from_args(args)

    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.loss_scale = 'dynamic'

    if args.auto_scale_lr:
        if 'auto_scale_lr' in cfg and 'base_batch_size' in cfg.auto_scale_lr:
            cfg.auto_scale_lr.enable = True
        else:
            raise RuntimeError('--auto-scale-lr needs auto_scale_lr.base_batch_size in '
                               f'{args.config}.')

    # Stated in the log once the runner exists: resumed checkpoint, load_from, or init.
    weights_level, weights_msg = explain_weights(cfg, args.resume)
    # resume priority: explicit checkpoint > latest in work_dir
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume

    try:
        with work_dir_lock(cfg.work_dir):  # one training per work dir, checked at once
            init_cpu_distributed(cfg)  # no-op with CUDA or --launcher none
            runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
            getattr(runner.logger, weights_level)(weights_msg)
            runner.train()
    except WorkDirInUseError as e:  # raised by the lock only, before anything is built
        print(f'error: {e}', file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == '__main__':
    main()
