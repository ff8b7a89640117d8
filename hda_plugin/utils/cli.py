"""What the tools share: common options, strict ``--cfg-options`` and config loading."""
import argparse
import difflib
import os
import os.path as osp
import sys
from typing import Any, Dict, Iterator, List, Mapping, Tuple

from mmengine.config import Config, DictAction

__all__ = [
    'add_common_args', 'load_config', 'check_cfg_options', 'CfgOptionError', 'explain_weights'
]

#: Prefix that marks a ``--cfg-options`` key as new on purpose (Hydra's convention).
NEW_KEY_PREFIX = '+'


class CfgOptionError(ValueError):
    """A ``--cfg-options`` key that the config does not have."""


def add_common_args(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Adds MMDetection's ``--work-dir``, ``--cfg-options``, ``--launcher``, ``--local-rank``."""
    parser.add_argument('--work-dir', help='the dir to save logs, models and metrics')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override some settings in the used config, the key-value pair in xxx=yyy '
        'format will be merged into config file. If the value to be overwritten is a list, '
        'it should be like key="[a,b]" or key=a,b. Keys must exist in the config (a typo '
        'is an error, with a suggestion); prefix a key with "+" to add a new one, e.g. '
        '+model.test_cfg.min_bbox_size=4.')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    # torch.distributed.run passes --local-rank (torch >= 2.0) or sets LOCAL_RANK.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    return parser


def load_config(args: argparse.Namespace) -> Config:
    """Loads ``args.config``, merges ``--cfg-options`` and sets launcher and work dir.

    An unknown ``--cfg-options`` key exits with status 2 and a did-you-mean message
    (:func:`check_cfg_options`).

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
        try:
            cfg.merge_from_dict(check_cfg_options(cfg, args.cfg_options))
        except CfgOptionError as e:  # a usage error: message and exit status 2, as argparse
            print(f'error: {e}', file=sys.stderr)
            raise SystemExit(2) from None
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    return cfg


def _children(node: Any) -> List[str]:
    if isinstance(node, Mapping):
        return [str(k) for k in node.keys()]
    if isinstance(node, (list, tuple)):
        return [str(i) for i in range(len(node))]
    return []


def _child(node: Any, part: str):
    """``node[part]`` for a dict key or a list index; raises KeyError when absent."""
    if isinstance(node, Mapping):
        if part in node:
            return node[part]
    elif isinstance(node, (list, tuple)) and part.lstrip('-').isdigit():
        if -len(node) <= int(part) < len(node):
            return node[int(part)]
    raise KeyError(part)


def _walk(node: Any, prefix: str = '', depth: int = 8) -> Iterator[Tuple[str, Any]]:
    """``(dotted path, value)`` of every key and list item under ``node``."""
    if depth == 0:
        return
    items = node.items() if isinstance(node, Mapping) else enumerate(node) \
        if isinstance(node, (list, tuple)) else ()
    for name, child in items:
        path = f'{prefix}.{name}' if prefix else str(name)
        yield path, child
        yield from _walk(child, path, depth - 1)


def _all_paths(node: Any) -> List[str]:
    return [path for path, _ in _walk(node)]


# top-level keys MMEngine's Runner reads itself: overriding them works
RUNNER_KEYS = {'default_scope', 'work_dir', 'load_from', 'resume', 'launcher', 'log_level',
               'experiment_name'}


def check_cfg_options(cfg: Config, options: Dict[str, Any]) -> Dict[str, Any]:
    """Checks that every ``--cfg-options`` key names something the config has.

    MMEngine merges an unknown key silently (``model.bbox_head.num_class=1`` adds a key no
    module reads), so a typo changes nothing and says nothing. Here it is an error with
    the closest existing keys. A key written ``+a.b=v`` is meant to be new: the ``+`` is
    stripped and the key is merged unchecked. A top-level variable whose value the config
    file copied into other keys (``data_root``, ``backbone_weights``) is an error too:
    overriding it changes none of the copies.

    Returns:
        The options ready for :meth:`Config.merge_from_dict`.
    """
    root = cfg.to_dict()
    checked = {}
    for key, value in options.items():
        if key.startswith(NEW_KEY_PREFIX):
            checked[key[len(NEW_KEY_PREFIX):]] = value
            continue
        node, done = root, []
        for part in key.split('.'):
            try:
                node = _child(node, part)
            except KeyError:
                raise CfgOptionError(_unknown_key_message(root, key, done, part, node)) from None
            done.append(part)
        if '.' not in key and key not in RUNNER_KEYS and isinstance(root[key], str):
            copies = [p for p in _paths_with_value(root, root[key])
                      if p != key and not p.endswith('_scope_')]
            if copies:
                raise CfgOptionError(
                    f'--cfg-options key "{key}" is a variable of the config file: its value '
                    f'{root[key]!r} was copied into {", ".join(copies[:4])}'
                    + (' ...' if len(copies) > 4 else '') + ' when the file was read, so '
                    'changing it here would change nothing that uses it. Set those keys '
                    f'instead (e.g. {copies[0]}=...), or the environment variable the config '
                    'reads for it (see its header).')
        checked[key] = value
    return checked


def _paths_with_value(node: Any, value: str) -> List[str]:
    """Paths under ``node`` whose value equals ``value``."""
    return [path for path, child in _walk(node, depth=32)
            if isinstance(child, str) and child == value]


def _unknown_key_message(root: Any, key: str, done: List[str], part: str, node: Any) -> str:
    where = '.'.join(done) or 'the top level'
    siblings = _children(node)
    prefix = '.'.join(done) + '.' if done else ''
    near = [prefix + s for s in difflib.get_close_matches(part, siblings, n=3, cutoff=0.6)]
    for path in difflib.get_close_matches(key, _all_paths(root), n=3, cutoff=0.75):
        if path not in near and not key.startswith(path + '.'):
            near.append(path)
    if isinstance(node, (Mapping, list, tuple)):
        what = f'{where} has no key "{part}"'
    else:
        what = f'{where} is {node!r}, not a dict, so it has no key "{part}"'
    msg = f'--cfg-options key "{key}" does not exist in the config: {what}.'
    if near:
        msg += ' Did you mean: ' + ', '.join(f'"{n}"' for n in near[:3]) + '?'
    elif siblings:
        msg += f' Keys there: {", ".join(siblings[:20])}.'
    msg += (f' To add a new key on purpose, write it as "{NEW_KEY_PREFIX}{key}=...".')
    return msg


def _pretrained_init(cfg: Config) -> List[str]:
    """``init_cfg=dict(type='Pretrained', checkpoint=...)`` entries in ``cfg.model``."""
    found = []

    def walk(node, path):
        if isinstance(node, Mapping):
            init = node.get('init_cfg')
            for item in init if isinstance(init, (list, tuple)) else [init]:
                if isinstance(item, Mapping) and item.get('type') == 'Pretrained':
                    found.append(f'{path or "model"}: {item.get("checkpoint")}')
            for k, v in node.items():
                if k != 'init_cfg':
                    walk(v, f'{path}.{k}' if path else k)

    walk(cfg.get('model', {}), '')
    return found


def explain_weights(cfg: Config, resume) -> tuple:
    """Which weights a training run will start from, stated plainly.

    Args:
        cfg: the config before ``--resume`` is applied to it.
        resume: ``tools/train.py``'s ``--resume`` value: None, ``'auto'`` or a path.

    Returns:
        ``(level, message)``, level ``'warning'`` when the choice is likely not what the
        user meant (checkpoints in the work dir ignored, a ``load_from`` overridden, nothing
        to resume from), else ``'info'``.
    """
    from mmengine.runner import find_latest_checkpoint
    work_dir = cfg.work_dir
    ckpts = sorted(f for f in os.listdir(work_dir) if f.endswith('.pth')) \
        if osp.isdir(work_dir) else []
    latest = find_latest_checkpoint(work_dir) if ckpts else None
    load_from = cfg.get('load_from')
    inits = _pretrained_init(cfg)
    if load_from:
        fresh = f'load_from={load_from} (weights only, from iteration 0)'
    elif inits:
        fresh = 'pretrained init_cfg (' + '; '.join(inits) + '), the rest initialised'
    else:
        fresh = 'random initialisation (no load_from, no pretrained init_cfg)'
    if resume is None:
        if not ckpts:
            return 'info', f'weights: training starts from {fresh}.'
        return 'warning', (
            f'weights: {work_dir} already holds {len(ckpts)} checkpoint(s) (latest: '
            f'{latest or ckpts[-1]}) but --resume was not given, so they are NOT used: '
            f'training starts from {fresh} at iteration 0, and checkpoints with the same '
            f'names will be overwritten. Pass --resume to continue from the latest one, or '
            f'--work-dir to keep both runs.')
    target = latest if resume == 'auto' else resume
    if target is None:
        return 'warning', (
            f'weights: --resume was given but {work_dir} holds no checkpoint, so nothing is '
            'resumed: training starts from random initialisation and any pretrained '
            'init_cfg at iteration 0' + (f'; load_from={load_from} is NOT used.'
                                         if load_from else '.'))
    msg = (f'weights: resuming from {target} (weights, optimizer state and iteration '
           'count)')
    if load_from and osp.abspath(load_from) != osp.abspath(target):
        return 'warning', f'{msg}; load_from={load_from} from the config is NOT used.'
    return 'info', msg + '.'


def inner_dataset_cfg(ds_cfg):
    """The dataset config that holds the pipeline, under ``RepeatDataset`` & co."""
    while 'pipeline' not in ds_cfg and 'dataset' in ds_cfg:
        ds_cfg = ds_cfg['dataset']
    return ds_cfg
