"""Reading the tensors of a ``.pth`` file: one place for the converters and the hooks."""
import re
from typing import Dict, Tuple

import torch

from ..safe_pickle import CorruptCheckpointError, safe_torch_load

__all__ = ['load_state_dict_file']


def load_state_dict_file(path: str) -> Tuple[Dict[str, torch.Tensor], dict]:
    """The tensors of a ``.pth`` file and its ``meta`` dict.

    The state dict is taken from under ``state_dict``/``model`` when present, and a
    ``module.`` key prefix (a DataParallel save) is dropped, as MMEngine's loaders do
    (``revise_keys``). Files load through :func:`hda_plugin.safe_pickle.safe_torch_load`:
    no code runs from them.
    """
    try:    # memory-mapped: a torchvision VGG16 is 528 MB
        ckpt = safe_torch_load(path, map_location='cpu', mmap=True)
    except CorruptCheckpointError:
        raise
    except RuntimeError:    # files from before torch 1.6's zip format cannot be mapped
        ckpt = safe_torch_load(path, map_location='cpu')
    meta = {}
    if isinstance(ckpt, dict):
        meta = ckpt.get('meta') if isinstance(ckpt.get('meta'), dict) else {}
        for key in ('state_dict', 'model'):
            if isinstance(ckpt.get(key), dict):
                ckpt = ckpt[key]
                break
    return {re.sub(r'^module\.', '', k): v for k, v in ckpt.items()
            if isinstance(v, torch.Tensor)}, meta
