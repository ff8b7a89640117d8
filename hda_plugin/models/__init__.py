"""Weights for the SSD VGG16 backbone and detectors: TensorFlow checkpoints read without
TensorFlow, TF-slim/torchvision VGG16 conversion, COCO/VOC SSD heads cut to one class."""
from .checkpoint_file import load_state_dict_file
from .ssd_person import person_head_from_detector
from .tf_checkpoint import TFCheckpoint, TFCheckpointError, read_tf_checkpoint
from .vgg_weights import (Conversion, ConversionError, convert_tfslim_vgg16,
                          convert_torchvision_vgg16, reduce_fc, save_backbone_checkpoint,
                          ssd_vgg_layers)

__all__ = [
    'TFCheckpoint', 'TFCheckpointError', 'read_tf_checkpoint', 'Conversion',
    'ConversionError', 'convert_tfslim_vgg16', 'convert_torchvision_vgg16', 'reduce_fc',
    'save_backbone_checkpoint', 'ssd_vgg_layers', 'person_head_from_detector',
    'load_state_dict_file'
]
