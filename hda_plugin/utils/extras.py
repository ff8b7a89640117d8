"""Optional dependencies: ``pip install hda-ssd`` trains and evaluates; the inference
features need extras (``setup.cfg``'s ``[options.extras_require]``):

=========  =====================================  ============================================
extra      modules                                what for
=========  =====================================  ============================================
video      ``av`` (PyAV)                          reading video files, writing ``--video``
tile       ``sahi``                               ``--tile`` (the tile grid)
deploy     ``onnx``, ``onnxscript``,              ONNX export, ``--backend onnxruntime``
           ``onnxruntime``
infer      all of the above                       everything ``tools/infer.py`` does
=========  =====================================  ============================================

Code that needs one of these modules imports it with :func:`require` where it is used,
never at module level, so the rest of the package imports without it. This module imports
nothing of hda_plugin or MMDetection.
"""
import importlib
from types import ModuleType

__all__ = ['EXTRAS', 'MissingExtraError', 'require']

#: extra -> the modules it installs (the pip distributions have the same names).
EXTRAS = {
    'video': ('av', ),
    'tile': ('sahi', ),
    'deploy': ('onnx', 'onnxscript', 'onnxruntime'),
}
EXTRAS['infer'] = tuple(m for mods in EXTRAS.values() for m in mods)


class MissingExtraError(ImportError):
    """A feature's optional module is not installed; the message gives the pip command."""


def require(module: str, extra: str, feature: str) -> ModuleType:
    """``module`` imported, or :class:`MissingExtraError` naming ``feature`` and the command
    that installs ``extra``.

    Args:
        module: the module to import (``'av'``, ``'sahi.slicing'``, ``'onnxruntime'``).
        extra: the extra of hda-ssd that installs it (a key of :data:`EXTRAS`).
        feature: what needs it, as the user asked for it (``'--video'``).
    """
    if extra not in EXTRAS:
        raise ValueError(f'require({module!r}, {extra!r}, ...): unknown extra; hda-ssd\'s '
                         f'extras are {sorted(EXTRAS)}.')
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise MissingExtraError(
            f'{feature} needs the Python package {module.split(".")[0]!r}, which cannot be '
            f'imported ({e}). It is an optional dependency of hda-ssd: install it with\n'
            f"    pip install 'hda-ssd[{extra}]'\n"
            f"(from a clone: pip install -e '.[{extra}]'; '[infer]' installs every inference "
            'extra).') from e
