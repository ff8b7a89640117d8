"""SSD-Tensorflow examples written by the library and read back by its parser."""
import numpy as np
from tfrecord.writer import TFRecordWriter

from hda_plugin.fileio import iter_records
from hda_plugin.fileio.tf_example import parse_ssd_example, ssd_example


def test_ssd_example_round_trip(tmp_path):
    path = str(tmp_path / 'one.tfrecord')
    w = TFRecordWriter(path)
    w.write(ssd_example(640, 480, [[64, 48, 128, 240], [0, 0, 10, 20]], [0, 1], b'\xff\xd8x', 1))
    w.close()
    records = list(iter_records(path))
    assert len(records) == 1
    ex = parse_ssd_example(records[0].data)
    assert ex['image'] == b'\xff\xd8x' and list(ex['shape']) == [480, 640, 3]
    np.testing.assert_allclose(ex['boxes'], [[0.1, 0.1, 0.5, 0.2], [0, 0, 20 / 480, 10 / 640]])
    assert ex['labels'] == [1, 1] and ex['difficult'] == [0, 1] and ex['texts'] == ['person'] * 2
