from .hda_dataset import HDADataset
from .layout import HDA_LAYOUT, camera_name, frame_filename, seq_filename
from .ssd_tfrecord_dataset import SSDTFRecordDataset
from .seq import SeqFormatError, SeqReader, write_seq
from .vbb import VbbAnnotation, VbbFormatError, VbbObject, dump_vbb, load_vbb, parse_vbb

__all__ = [
    'HDADataset', 'SSDTFRecordDataset', 'HDA_LAYOUT', 'camera_name', 'frame_filename', 'seq_filename',
    'SeqFormatError', 'SeqReader', 'write_seq', 'VbbAnnotation', 'VbbFormatError', 'VbbObject',
    'dump_vbb', 'load_vbb', 'parse_vbb'
]
