"""Registered data sets and transforms: the HDA release as distributed and SSD-Tensorflow
TFRecords. The release's names and file formats they read live in :mod:`hda_plugin.fileio`."""
from .hda_dataset import HDADataset
from .ssd_tfrecord_dataset import SSDTFRecordDataset
from .transforms import LoadHDAAnnotations, PackHDADetInputs

__all__ = ['HDADataset', 'SSDTFRecordDataset', 'LoadHDAAnnotations', 'PackHDADetInputs']
