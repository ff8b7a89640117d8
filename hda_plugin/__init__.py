"""hda-ssd: MMDetection 3.x plugin for SSD person detectors on the HDA data set.

Importing the package registers its components in MMDetection's and MMEngine's registries
(datasets, transforms, the SSD head, hooks, the runner, metrics) and applies the few
stack workarounds that must stay patches (:mod:`hda_plugin.compat`).
"""
from .compat import apply_patches
from .version import __version__

apply_patches()

from .datasets import *  # noqa: F401,F403,E402
from .engine import *  # noqa: F401,F403,E402
from .evaluation import *  # noqa: F401,F403,E402
from .models import *  # noqa: F401,F403,E402
from .weights import *  # noqa: F401,F403,E402

__all__ = ['__version__']
