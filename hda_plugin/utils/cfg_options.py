"""Strict ``--cfg-options``: every key must name something the config has, and a list of
typed dicts (``custom_hooks``, a ``pipeline``) may be addressed by type name.

MMEngine merges an unknown key silently and addresses list items by index only, so
``custom_hooks.4.enabled=False`` breaks when a hook is added before it. Here
``custom_hooks.WeightHealthHook.enabled=False`` resolves to the one item of that type.
"""
import difflib
from typing import Any, Dict, Iterator, List, Mapping, Tuple

from mmengine.config import Config

__all__ = ['CfgOptionError', 'check_cfg_options', 'resolve_type_names', 'NEW_KEY_PREFIX']

#: Prefix that marks a ``--cfg-options`` key as new on purpose (Hydra's convention).
NEW_KEY_PREFIX = '+'


class CfgOptionError(ValueError):
    """A ``--cfg-options`` key that the config does not have."""


def _type_name(item: Any):
    t = item.get('type') if isinstance(item, Mapping) else None
    return t.rsplit('.', 1)[-1] if isinstance(t, str) else getattr(t, '__name__', None)


def _resolve_part(node: Any, part: str, done: List[str]) -> str:
    """The list index for ``part`` when ``node`` is a list and ``part`` a type name of
    its items; ``part`` itself otherwise. None or several matches are an error naming the
    items present."""
    if not isinstance(node, (list, tuple)) or part.lstrip('-').isdigit():
        return part
    types = [_type_name(item) for item in node]
    if not any(types):
        return part
    hits = [i for i, t in enumerate(types) if t == part]
    where = '.'.join(done)
    present = ', '.join(f'{t} ({i})' for i, t in enumerate(types) if t)
    if len(hits) == 1:
        return str(hits[0])
    if not hits:
        near = difflib.get_close_matches(part, [t for t in types if t], n=1, cutoff=0.6)
        raise CfgOptionError(
            f'--cfg-options: {where} has no item of type "{part}"'
            + (f' (did you mean "{near[0]}"?)' if near else '') + f'. Items there: {present}.')
    raise CfgOptionError(
        f'--cfg-options: {where} holds {len(hits)} items of type "{part}" (indices '
        f'{", ".join(map(str, hits))}); address one by its index, e.g. '
        f'{where}.{hits[0]}. Items there: {present}.')


def resolve_type_names(root: Any, key: str) -> str:
    """``key`` with every type-name part under a list replaced by the item's index, as far
    as the path exists (``custom_hooks.PositiveAnchorHook.patience`` ->
    ``custom_hooks.3.patience``)."""
    node, done = root, []
    for part in key.split('.'):
        part = _resolve_part(node, part, done)
        done.append(part)
        try:
            node = _child(node, part)
        except KeyError:
            node = None
    return '.'.join(done)


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
# Top-level keys something reads after the file is parsed: MMEngine's Runner.from_cfg and
# Runner.train (mmengine 0.10.7), and the tools. Any other top-level key is a variable of
# the config file, already copied into the settings that use it.
READ_KEYS = {
    'model', 'work_dir', 'train_dataloader', 'val_dataloader', 'test_dataloader', 'train_cfg',
    'val_cfg', 'test_cfg', 'auto_scale_lr', 'optim_wrapper', 'param_scheduler',
    'val_evaluator', 'test_evaluator', 'default_hooks', 'custom_hooks', 'data_preprocessor',
    'load_from', 'resume', 'launcher', 'env_cfg', 'log_processor', 'log_level', 'visualizer',
    'default_scope', 'randomness', 'experiment_name', 'compile', 'activation_checkpointing',
    'efficient_conv_bn_eval', 'runner_type'}


def check_cfg_options(cfg: Config, options: Dict[str, Any]) -> Dict[str, Any]:
    """Checks that every ``--cfg-options`` key names something the config has.

    MMEngine merges an unknown key silently (``model.bbox_head.num_class=1`` adds a key no
    module reads), so a typo changes nothing and says nothing. Here it is an error with
    the closest existing keys. A key written ``+a.b=v`` is meant to be new: the ``+`` is
    stripped and the key is merged unchecked. A part naming the type of an item of a list
    of dicts (``custom_hooks.PositiveAnchorHook``, ``pipeline.Resize``) resolves to that
    item's index; none or several such items is an error listing the items. A top-level
    variable of the config file (``data_root``, ``backbone_weights``, ``train_pipeline``:
    anything MMEngine does not read, :data:`READ_KEYS`) is an error too: its value was
    copied into the settings that use it when the file was read.

    Returns:
        The options ready for :meth:`Config.merge_from_dict`.
    """
    root = cfg.to_dict()
    checked = {}
    for key, value in options.items():
        if key.startswith(NEW_KEY_PREFIX):
            checked[resolve_type_names(root, key[len(NEW_KEY_PREFIX):])] = value
            continue
        key = resolve_type_names(root, key)
        node, done = root, []
        for part in key.split('.'):
            try:
                node = _child(node, part)
            except KeyError:
                raise CfgOptionError(_unknown_key_message(root, key, done, part, node)) from None
            done.append(part)
        top = key.split('.')[0]
        if top not in READ_KEYS:
            raise CfgOptionError(_variable_message(root, key, top))
        checked[key] = value
    return checked


def _paths_with_value(node: Any, value: Any) -> List[str]:
    """Paths under ``node`` whose value equals ``value``."""
    return [path for path, child in _walk(node, depth=32)
            if type(child) is type(value) and child == value]


def _variable_message(root: Any, key: str, top: str) -> str:
    copies = [p for p in _paths_with_value(root, root[top])
              if p != top and not p.endswith('_scope_')]
    where = (f'its value {root[top]!r} was copied into {", ".join(copies[:4])}'
             + (' ...' if len(copies) > 4 else '') if copies else
             'its value was copied into the settings that use it')
    hint = f'Set those keys instead (e.g. {copies[0]}=...)' if copies else \
        'Set the keys that use it instead'
    return (f'--cfg-options key "{key}": "{top}" is a variable of the config file, not a '
            f'setting MMEngine reads: {where} when the file was read, so changing it here '
            f'would change nothing that uses it. {hint}, or the environment variable the '
            f'config reads for it (see its header). A tool of your own that reads it: '
            f'"{NEW_KEY_PREFIX}{key}=...".')


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


