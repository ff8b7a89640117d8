"""Loading a config as the tools do: strict ``--cfg-options``, launcher and work dir."""
import os.path as osp
from typing import Any, Dict, Optional

from mmengine.config import Config

from .cfg_options import check_cfg_options

__all__ = ['load_config', 'inner_dataset_cfg']


def load_config(path: str, cfg_options: Optional[Dict[str, Any]] = None,
                work_dir: Optional[str] = None, launcher: str = 'none') -> Config:
    """Loads ``path``, merges ``cfg_options`` (checked: :func:`check_cfg_options` raises
    :class:`CfgOptionError` on an unknown key) and sets launcher and work dir.

    ``work_dir`` priority: the argument > the config's ``work_dir`` >
    ``./work_dirs/<config name>``, as in MMDetection.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'config {path} does not exist.')
    cfg = Config.fromfile(path)
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
