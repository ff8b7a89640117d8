from .hda_dataset import HDADataset
from .hda_detections import AllD, AllDFormatError, alld_path, find_alld, read_alld, write_alld
from .layout import (
                     BENCHMARK_EXCLUDED_CAMERAS,
                     HDA_CAMERAS,
                     HDA_LAYOUT,
                     camera_name,
                     frame_filename,
                     seq_filename,
)
from .ssd_tfrecord_dataset import SSDTFRecordDataset
from .transforms import LoadHDAAnnotations, PackHDADetInputs

__all__ = [
    'HDADataset', 'SSDTFRecordDataset', 'HDA_LAYOUT', 'HDA_CAMERAS', 'BENCHMARK_EXCLUDED_CAMERAS',
    'camera_name', 'frame_filename', 'seq_filename', 'AllD', 'AllDFormatError', 'alld_path',
    'find_alld', 'read_alld', 'write_alld', 'LoadHDAAnnotations', 'PackHDADetInputs'
]
