"""Unpickling that cannot run code: the checkpoint and results files hda-ssd reads.

A ``.pth`` checkpoint or a ``--out`` results file is a pickle, and a pickle can call any
importable function while it loads (a ``__reduce__`` payload). Here every such file loads
through an allowlist of the types MMEngine's own checkpoints and MMDetection's results
hold, nothing else:

- torch >= 2.4: ``torch.load(weights_only=True)`` with :func:`safe_globals` passed to
  ``torch.serialization.safe_globals`` for that call;
- older torch (2.1, which the prebuilt mmcv 2.1.0 pairs with, has no ``safe_globals``):
  ``torch.load`` with :class:`RestrictedUnpickler` as its ``pickle_module``, the same
  allowlist;
- plain pickles (``tools/test.py --out results.pkl``): :func:`load_pickle`, the same
  unpickler.

A global outside the list fails with :class:`UnsafeFileError` naming the file and the type.
A file the user trusts can be named in ``HDA_SSD_TRUSTED_FILES`` (``os.pathsep``-separated
paths): only those load with full pickle, each with a warning.
"""
import collections
import io
import os
import os.path as osp
import pickle
import types
import warnings
import zipfile
from typing import Any, Dict, Optional

import numpy as np
import torch

__all__ = ['UnsafeFileError', 'CorruptCheckpointError', 'safe_torch_load', 'load_pickle',
           'RestrictedUnpickler', 'safe_globals', 'TRUST_ENV']

TRUST_ENV = 'HDA_SSD_TRUSTED_FILES'


class UnsafeFileError(pickle.UnpicklingError):
    """A checkpoint or results file that refers to a type outside the allowlist."""


class CorruptCheckpointError(RuntimeError):
    """A checkpoint file that is truncated or not a PyTorch file at all."""


def _history_buffer_attr(obj, name):
    """``getattr`` as MMEngine's ``HistoryBuffer`` pickles need it (its class attribute
    ``_statistics_methods`` holds ``HistoryBuffer.min``, ...), and nothing else: a general
    ``getattr`` would reach any attribute of any loaded object."""
    from mmengine.logging.history_buffer import HistoryBuffer
    if obj is HistoryBuffer and isinstance(name, str) and not name.startswith('_') and \
            callable(getattr(HistoryBuffer, name, None)):
        return getattr(HistoryBuffer, name)
    raise UnsafeFileError(f'getattr({obj!r}, {name!r}) is not allowed')


def _numpy_globals() -> Dict[str, Any]:
    core = getattr(np, '_core', None) or np.core  # numpy 2 renamed numpy.core
    found = {'numpy.dtype': np.dtype, 'numpy.ndarray': np.ndarray}
    for mod in ('numpy._core.multiarray', 'numpy.core.multiarray'):
        found[f'{mod}._reconstruct'] = core.multiarray._reconstruct
        found[f'{mod}.scalar'] = core.multiarray.scalar
    dtypes = getattr(np, 'dtypes', None)  # numpy >= 1.25 pickles dtypes by class
    for name in dir(dtypes) if dtypes else []:
        if name.endswith('DType'):
            found[f'numpy.dtypes.{name}'] = getattr(dtypes, name)
    return found


def _torch_globals() -> Dict[str, Any]:
    found = {'collections.OrderedDict': collections.OrderedDict, 'torch.Size': torch.Size,
             'torch.device': torch.device, 'builtins.set': set, 'builtins.frozenset': frozenset,
             'builtins.slice': slice, 'builtins.complex': complex}
    for name in ('_rebuild_tensor', '_rebuild_tensor_v2', '_rebuild_parameter',
                 '_rebuild_parameter_with_state', '_rebuild_device_tensor_from_numpy'):
        if hasattr(torch._utils, name):
            found[f'torch._utils.{name}'] = getattr(torch._utils, name)
    for name in dir(torch):
        value = getattr(torch, name, None)
        if isinstance(value, torch.dtype) or name.endswith('Storage') and name[0].isupper():
            found[f'torch.{name}'] = value
    return found


def _mmengine_globals() -> Dict[str, Any]:
    from mmengine.logging.history_buffer import HistoryBuffer
    return {'mmengine.logging.history_buffer.HistoryBuffer': HistoryBuffer,
            '__builtin__.getattr': _history_buffer_attr, 'builtins.getattr': _history_buffer_attr}


def _codecs_globals() -> Dict[str, Any]:
    import _codecs
    return {'_codecs.encode': _codecs.encode}  # bytes, as protocol-2 pickles write them


_SAFE: Optional[Dict[str, Any]] = None


def safe_globals() -> Dict[str, Any]:
    """``'module.name' -> object`` of every global a safe file may refer to."""
    global _SAFE
    if _SAFE is None:
        _SAFE = {**_numpy_globals(), **_torch_globals(), **_mmengine_globals(),
                 **_codecs_globals()}
    return _SAFE



def _fix(path: str) -> str:
    return (f'If you trust {path} (you made it, or know who did), allow it knowingly: '
            f'{TRUST_ENV}={osp.abspath(path)} (paths separated by "{os.pathsep}"); it is then '
            'loaded with full pickle, which can run code. Or re-save its tensors with '
            'torch.save(state_dict) from a trusted process.')


class RestrictedUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` that resolves only :func:`safe_globals`."""
    path = '<file>'

    def find_class(self, module, name):
        key = f'{module}.{name}'
        allowed = safe_globals()
        if key in allowed:
            return allowed[key]
        if key == 'torch.storage._load_from_bytes':  # a tensor pickled outside torch.save
            return lambda b: safe_torch_load(io.BytesIO(b), source=self.path)
        raise UnsafeFileError(
            f'{self.path}: refers to {key}, which is not a type a checkpoint or results file '
            f'holds (allowed: tensors, numpy arrays and scalars, MMEngine history buffers, '
            f'plain Python containers). Loading it could run code. {_fix(self.path)}')


def _restricted_pickle_module(path: str) -> types.ModuleType:
    """A ``pickle_module`` for ``torch.load`` on torch without ``safe_globals``."""
    class Unpickler(RestrictedUnpickler):
        pass
    Unpickler.path = path
    mod = types.ModuleType('hda_restricted_pickle')
    mod.Unpickler, mod.load, mod.UnpicklingError = Unpickler, pickle.load, pickle.UnpicklingError
    return mod


def _trusted(path) -> bool:
    if not isinstance(path, (str, os.PathLike)):
        return False
    listed = [p for p in os.environ.get(TRUST_ENV, '').split(os.pathsep) if p]
    return osp.abspath(path) in {osp.abspath(p) for p in listed}


def _loud(path):
    msg = (f'{TRUST_ENV} names {path}: loading it with full pickle, which can run any code '
           'the file carries. Do this only for files you trust.')
    warnings.warn(msg, stacklevel=3)
    try:
        from mmengine.logging import print_log
        print_log(msg, logger='current', level=30)
    except Exception:  # noqa: BLE001  the warning above is printed anyway
        pass


def safe_torch_load(f, map_location: Any = 'cpu', mmap: Optional[bool] = None,
                    source: Optional[str] = None, _use_safe_globals: Optional[bool] = None):
    """``torch.load`` that runs no code from the file (see the module doc).

    Args:
        f: a path or a file object.
        map_location: as ``torch.load``.
        mmap: memory-map the file (torch >= 2.1, zip-format files).
        source: the name used in messages when ``f`` is a file object.
    """
    path = source or (str(f) if isinstance(f, (str, os.PathLike)) else '<stream>')
    kwargs = dict(map_location=map_location)
    if mmap:
        kwargs['mmap'] = True
    if _trusted(f):
        _loud(path)
        return torch.load(f, weights_only=False, **kwargs)
    use_safe = hasattr(torch.serialization, 'safe_globals') if _use_safe_globals is None \
        else _use_safe_globals
    try:
        if use_safe:
            allow = [(obj, key) for key, obj in safe_globals().items()]
            with torch.serialization.safe_globals(allow):
                return torch.load(f, weights_only=True, **kwargs)
        return torch.load(f, weights_only=False, pickle_module=_restricted_pickle_module(path),
                          **kwargs)
    except UnsafeFileError:
        raise
    except (RuntimeError, EOFError, zipfile.BadZipFile) as e:
        text = str(e)
        if isinstance(e, RuntimeError) and not any(k in text for k in (
                'PytorchStreamReader', 'central directory', 'zip archive', 'truncated')):
            raise
        size = os.path.getsize(f) if isinstance(f, (str, os.PathLike)) and \
            os.path.exists(f) else None
        cause = text.split('.')[0] if text else type(e).__name__
        raise CorruptCheckpointError(
            f'{path}: not a complete PyTorch checkpoint ({cause}'
            + (f'; {size} bytes' if size is not None else '') + '). The file is truncated '
            '(a copy or a save that did not finish) or is not a .pth file: re-copy it, or '
            'resume from an earlier checkpoint.') from None
    except pickle.UnpicklingError as e:
        text = str(e)
        if 'Unsupported global' in text or 'GLOBAL' in text or 'not an allowed global' in text:
            what = text.split('GLOBAL', 1)[-1].split(' was not')[0].strip()
            raise UnsafeFileError(
                f'{path}: refers to {what}, which is not a type a checkpoint holds; loading it '
                f'could run code. {_fix(path)}') from None
        raise


def load_pickle(path: str) -> Any:
    """A plain pickle (``--out results.pkl``) through :class:`RestrictedUnpickler`."""
    if _trusted(path):
        _loud(path)
        with open(path, 'rb') as fh:
            return pickle.load(fh)
    with open(path, 'rb') as fh:
        up = RestrictedUnpickler(fh)
        up.path = path
        return up.load()

