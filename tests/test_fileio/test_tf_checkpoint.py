"""TensorFlow checkpoint errors that name the file and the place."""
import numpy as np
import pytest


def test_tf_index_that_parses_wrongly_despite_its_checksums(tmp_path):
    """A variable name that is not UTF-8, written with consistent block CRCs."""
    from tf_checkpoint_writer import write_tf_checkpoint

    from hda_plugin.fileio import TFCheckpointError, read_tf_checkpoint

    class BadName(str):
        def encode(self, *args, **kwargs):
            return b'vgg_16/\xff\xfe'

    prefix = str(tmp_path / 'vgg_16.ckpt')
    write_tf_checkpoint(prefix, {BadName('vgg_16/w'): np.ones(3, np.float32)})
    with pytest.raises(TFCheckpointError, match=r'vgg_16\.ckpt: the checkpoint does not parse '
                                                r'\(UnicodeDecodeError.*checksums agree'):
        read_tf_checkpoint(prefix)
