"""What the demo, the tests and the benchmarks build their data from: a synthetic HDA
release (:mod:`.release`: scene, people, annotations), as MMDetection keeps such code in
``mmdet.testing``. Nothing here is registered or used by training on real data."""
from .release import CAMERA_RESOLUTIONS, DEFAULT_CAMERAS, make_synthetic_hda, render_camera

__all__ = ['CAMERA_RESOLUTIONS', 'DEFAULT_CAMERAS', 'make_synthetic_hda', 'render_camera']
