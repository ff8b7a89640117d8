"""Every file format hda-ssd reads or writes, with no MMDetection import: Norpix ``.seq``
videos, vbb annotations, the benchmark's ``allD.txt`` and its detector folders, COCO results,
videos, TFRecord framing and SSD-Tensorflow examples, TensorFlow checkpoints; the writers'
atomic base; and :mod:`.hda_layout`, the one home of the HDA release's naming rules. Every
reader names the file and the place of a problem."""
from .seq import SeqFormatError, SeqReader, write_seq
from .text_format_error import TextFormatError
from .tf_checkpoint import TFCheckpoint, TFCheckpointError, read_tf_checkpoint
from .tf_example import image_format_from_bytes, image_size_from_bytes, parse_ssd_example
from .tfrecord import (
                       Record,
                       ShardIndex,
                       TFRecordError,
                       build_shard_index,
                       find_shards,
                       iter_records,
                       load_shard_index,
                       masked_crc32c,
                       read_record,
)
from .vbb import VbbAnnotation, VbbFormatError, VbbObject, dump_vbb, load_vbb, parse_vbb

__all__ = [
    'SeqFormatError', 'SeqReader', 'write_seq', 'TextFormatError', 'TFCheckpoint',
    'TFCheckpointError', 'read_tf_checkpoint', 'image_format_from_bytes',
    'image_size_from_bytes', 'parse_ssd_example', 'Record', 'ShardIndex', 'TFRecordError',
    'build_shard_index', 'find_shards', 'iter_records', 'load_shard_index', 'masked_crc32c',
    'read_record', 'VbbAnnotation', 'VbbFormatError', 'VbbObject', 'dump_vbb', 'load_vbb',
    'parse_vbb'
]
