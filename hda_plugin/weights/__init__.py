"""Weights for the SSD VGG16 backbone and detectors: TF-slim/torchvision VGG16 conversion
(TensorFlow checkpoints are read by :mod:`hda_plugin.fileio`), COCO/VOC SSD heads cut to
one class."""
from .checkpoint_file import load_state_dict_file
from .ssd_person import person_head_from_detector
from .vgg_weights import (
                          Conversion,
                          ConversionError,
                          convert_tfslim_vgg16,
                          convert_torchvision_vgg16,
                          reduce_fc,
                          save_backbone_checkpoint,
                          ssd_vgg_layers,
)

__all__ = [
    'Conversion',
    'ConversionError', 'convert_tfslim_vgg16', 'convert_torchvision_vgg16', 'reduce_fc',
    'save_backbone_checkpoint', 'ssd_vgg_layers', 'person_head_from_detector',
    'load_state_dict_file'
]
