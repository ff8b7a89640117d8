"""Running a trained detector: frame sources (.seq, video, images), the PyTorch and ONNX
Runtime backends, tiled inference, drawing, and the loop of ``tools/infer.py`` (the files
it writes are :mod:`hda_plugin.fileio`'s writers)."""
from .backends import OnnxRuntimeBackend, PyTorchBackend, build_backend
from .runner import InferenceRunner, SourceResult
from .sources import FrameSourceError, open_inputs
from .tiling import TilePlan, parse_tile_arg, plan_tiles

__all__ = ['OnnxRuntimeBackend', 'PyTorchBackend', 'build_backend',
           'InferenceRunner', 'SourceResult', 'FrameSourceError', 'open_inputs', 'TilePlan',
           'parse_tile_arg', 'plan_tiles']
