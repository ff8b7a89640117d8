"""Deployment: the detector exported as one ONNX graph (``tools/deployment/export_onnx.py``),
the metadata record it carries, and the test preprocessing every runtime shares.

onnx itself (the ``deploy`` extra) is imported only when a graph is exported."""
from .onnx_export import SSDOnnxModel, export_onnx, input_size_of
from .onnx_metadata import ONNX_META_KEY, OnnxMetadata
from .preprocess import Preprocessor

__all__ = ['SSDOnnxModel', 'export_onnx', 'input_size_of', 'ONNX_META_KEY', 'OnnxMetadata',
           'Preprocessor']
