"""Loading a config as the tools do: strict ``--cfg-options``, launcher and work dir."""
import ast
import os.path as osp
from typing import Any, Dict, Optional

from mmengine.config import Config

from .cfg_options import check_cfg_options

__all__ = ['load_config', 'inner_dataset_cfg', 'ConfigSyntaxError']


class ConfigSyntaxError(SyntaxError):
    """A config (or one of its bases) that is not valid Python, with file and line."""


def _first_syntax_error(path: str, depth: int = 0):
    """``(file, SyntaxError)`` for the first file of ``path``'s local ``_base_`` chain that is
    not valid Python, or None."""
    try:
        with open(path, encoding='utf-8') as f:
            tree = ast.parse(f.read(), filename=path)
    except SyntaxError as e:
        return path, e
    except OSError:
        return None
    for node in tree.body if depth < 16 else []:
        if isinstance(node, ast.Assign) and any(getattr(t, 'id', '') == '_base_'
                                                for t in node.targets):
            try:
                bases = ast.literal_eval(node.value)
            except ValueError:
                return None
            for base in [bases] if isinstance(bases, str) else list(bases):
                if '::' not in base:  # mmdet::... is MMDetection's, not the user's
                    found = _first_syntax_error(
                        osp.normpath(osp.join(osp.dirname(path), base)), depth + 1)
                    if found:
                        return found
    return None


def _syntax_message(path: str, err: SyntaxError) -> str:
    """MMEngine reports a syntax error as ``File "<unknown>"``: say which file and line."""
    found = _first_syntax_error(path)
    if found is None:
        return f'{path}: invalid Python in the config: {err}'
    bad, e = found
    return (f'{bad}:{e.lineno}: invalid Python in the config: {e.msg}: '
            f'{(e.text or "").strip()!r}' + ('' if bad == path else f' (a base of {path})'))


def load_config(path: str, cfg_options: Optional[Dict[str, Any]] = None,
                work_dir: Optional[str] = None, launcher: str = 'none') -> Config:
    """Loads ``path``, merges ``cfg_options`` (checked: :func:`check_cfg_options` raises
    :class:`CfgOptionError` on an unknown key) and sets launcher and work dir.

    ``work_dir`` priority: the argument > the config's ``work_dir`` >
    ``./work_dirs/<config name>``, as in MMDetection.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'config {path} does not exist.')
    try:
        cfg = Config.fromfile(path)
    except SyntaxError as e:
        raise ConfigSyntaxError(_syntax_message(path, e)) from None
    cfg.launcher = launcher
    if cfg_options:
        cfg.merge_from_dict(check_cfg_options(cfg, cfg_options))
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(path))[0])
    return cfg


def inner_dataset_cfg(ds_cfg):
    """The dataset config that holds the pipeline, under ``RepeatDataset`` & co."""
    while 'pipeline' not in ds_cfg and 'dataset' in ds_cfg:
        ds_cfg = ds_cfg['dataset']
    return ds_cfg
