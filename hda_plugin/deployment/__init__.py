"""Deployment: the detector exported as one ONNX graph (``tools/deployment/export_onnx.py``)."""
from .onnx_export import SSDOnnxModel, export_onnx, input_size_of

__all__ = ['SSDOnnxModel', 'export_onnx', 'input_size_of']
