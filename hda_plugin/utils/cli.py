"""What the command-line tools share: MMDetection's common options and the config they
name. Only ``tools/`` imports this module; library code uses :mod:`.config`."""
import argparse
import os
import sys

from mmengine.config import Config, DictAction

from .cfg_options import CfgOptionError
from .config import ConfigSyntaxError, load_config

__all__ = ['add_common_args', 'add_cfg_options', 'config_from_args', 'DictAction']


def add_cfg_options(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override some settings in the used config, the key-value pair in xxx=yyy '
        'format will be merged into config file. If the value to be overwritten is a list, '
        'it should be like key="[a,b]" or key=a,b. Keys must exist in the config (a typo '
        'is an error, with a suggestion); prefix a key with "+" to add a new one, e.g. '
        '+model.test_cfg.min_bbox_size=4. An item of custom_hooks or of a pipeline can be '
        'named by its type: custom_hooks.PositiveAnchorHook.patience=5.')
    return parser


def add_common_args(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Adds MMDetection's ``--work-dir``, ``--cfg-options``, ``--launcher``, ``--local-rank``."""
    parser.add_argument('--work-dir', help='the dir to save logs, models and metrics')
    add_cfg_options(parser)
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    # torch.distributed.run passes --local-rank (torch >= 2.0) or sets LOCAL_RANK.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    return parser


def config_from_args(args: argparse.Namespace) -> Config:
    """:func:`load_config` with the options of :func:`add_common_args` (those absent from
    ``args`` take their defaults); an unknown ``--cfg-options`` key is a usage error: the
    message and exit status 2, as argparse."""
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(getattr(args, 'local_rank', 0))
    try:
        return load_config(args.config, getattr(args, 'cfg_options', None),
                           getattr(args, 'work_dir', None), getattr(args, 'launcher', 'none'))
    except (CfgOptionError, ConfigSyntaxError) as e:
        print(f'error: {e}', file=sys.stderr)
        raise SystemExit(2) from None
