"""Model components the HDA configs name (``model.bbox_head.type``)."""
from .dense_heads import *  # noqa: F401,F403
