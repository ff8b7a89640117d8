"""What ``tools/train.py`` and ``tools/test.py`` share: common options and config loading."""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction

__all__ = ['add_common_args', 'load_config']


def add_common_args(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Adds MMDetection's ``--work-dir``, ``--cfg-options``, ``--launcher``, ``--local-rank``."""
    parser.add_argument('--work-dir', help='the dir to save logs, models and metrics')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override some settings in the used config, the key-value pair in xxx=yyy '
        'format will be merged into config file. If the value to be overwritten is a list, '
        'it should be like key="[a,b]" or key=a,b.')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    # torch.distributed.run passes --local-rank (torch >= 2.0) or sets LOCAL_RANK.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    return parser


def load_config(args: argparse.Namespace) -> Config:
    """Loads ``args.config``, merges ``--cfg-options`` and sets launcher and work dir.

    ``work_dir`` priority: ``--work-dir`` > the config's ``work_dir`` >
    ``./work_dirs/<config name>``, as in MMDetection.
    """
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config {args.config} does not exist.')
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    return cfg
