import os
import struct

import cv2
import numpy as np
import pytest

from hda_plugin.datasets.frames import extract_camera
from hda_plugin.fileio.hda_layout import HDA_LAYOUT
from hda_plugin.fileio.seq import SeqFormatError, SeqReader, write_seq


def _frames(n, w=64, h=48):
    rng = np.random.RandomState(0)
    out = []
    for i in range(n):
        img = np.full((h, w, 3), 40 * i % 255, np.uint8)
        cv2.rectangle(img, (5 + i, 5), (30 + i, 40), tuple(int(v) for v in rng.randint(0, 255, 3)),
                      -1)
        out.append(img)
    return out


@pytest.mark.parametrize('codec', ['jpg', 'png'])
@pytest.mark.parametrize('padding', [8, 16])
def test_roundtrip_codecs_and_paddings(tmp_path, codec, padding):
    frames = _frames(5)
    path = tmp_path / 'camera17.seq'
    assert write_seq(str(path), frames, codec=codec, padding=padding, fps=5.0, quality=95) == 5
    with SeqReader(str(path)) as r:
        assert (r.width, r.height, r.num_frames, len(r)) == (64, 48, 5, 5)
        assert r.codec == codec and r.padding == padding and r.fps == 5.0
        for i, ref in enumerate(frames):
            params = [cv2.IMWRITE_JPEG_QUALITY, 95] if codec == 'jpg' else []
            encoded = cv2.imencode('.' + codec, ref, params)[1].tobytes()
            assert r.read_encoded(i) == encoded  # stored byte for byte
            img = r.read(i)
            assert img.shape == ref.shape
            if codec == 'png':
                assert np.array_equal(img, ref)


def test_header_fields_at_norpix_offsets(tmp_path):
    path = tmp_path / 'c.seq'
    write_seq(str(path), _frames(2, 32, 16), codec='png')
    h = path.read_bytes()[:1024]
    assert struct.unpack_from('<I', h, 0)[0] == 0xFEED
    assert h[4:24].decode('utf-16-le') == 'Norpix seq'
    assert struct.unpack_from('<I', h, 32)[0] == 1024
    w, hh, _, _, _, fmt, n = struct.unpack_from('<7I', h, 548)
    assert (w, hh, fmt, n) == (32, 16, 1, 2)


def test_raw_grey_frames(tmp_path):
    w, h, n = 8, 4, 3
    header = bytearray(1024)
    struct.pack_into('<I', header, 0, 0xFEED)
    header[4:24] = 'Norpix seq'.encode('utf-16-le')
    struct.pack_into('<iI', header, 28, 5, 1024)
    struct.pack_into('<9I', header, 548, w, h, 8, 8, w * h, 100, n, 0, w * h + 8)
    body = b''.join(bytes([i * 10] * (w * h)) + b'\0' * 8 for i in range(n))
    path = tmp_path / 'raw.seq'
    path.write_bytes(bytes(header) + body)
    with SeqReader(str(path)) as r:
        assert r.codec == 'raw' and len(r) == 3
        assert r.read(2).shape == (4, 8, 3) and int(r.read(2)[0, 0, 0]) == 20


def test_truncated_file_strict_and_lenient(tmp_path):
    path = tmp_path / 'camera18.seq'
    write_seq(str(path), _frames(4), codec='jpg')
    data = path.read_bytes()
    path.write_bytes(data[:-300])  # cuts into the last frame
    with pytest.raises(SeqFormatError) as e:
        SeqReader(str(path))
    msg = str(e.value)
    assert 'camera18.seq' in msg and 'frame 3' in msg and 'byte offset' in msg
    assert 'declares 4 frames, 3 are complete' in msg
    r = SeqReader(str(path), strict=False)
    assert len(r) == 3 and r.truncated_at == 3
    assert r.read(2).shape == (48, 64, 3)


def test_not_a_seq_file(tmp_path):
    p = tmp_path / 'x.seq'
    p.write_bytes(b'\0' * 2048)
    with pytest.raises(SeqFormatError, match='bad header: expected magic 0xFEED'):
        SeqReader(str(p))
    p.write_bytes(b'\0' * 10)
    with pytest.raises(SeqFormatError, match='shorter than the 1024-byte Norpix header'):
        SeqReader(str(p))


def test_extract_keeps_frames_before_truncation(tmp_path):
    seq_dir = tmp_path / HDA_LAYOUT['seq']
    seq_dir.mkdir()
    path = seq_dir / 'camera40.seq'
    write_seq(str(path), _frames(4), codec='png', padding=16)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(SeqFormatError, match=r'Frames 0\.\.2 were written'):
        extract_camera(str(tmp_path), 40, progress=False)
    out = sorted(p.name for p in (tmp_path / HDA_LAYOUT['frames'] / 'cam40').iterdir())
    assert out == ['I00001.png', 'I00002.png', 'I00003.png']
    assert cv2.imread(str(tmp_path / HDA_LAYOUT['frames'] / 'cam40' / 'I00002.png')).shape == \
        (48, 64, 3)


def test_extract_rejects_corrupt_frame_bytes(tmp_path):
    seq_dir = tmp_path / HDA_LAYOUT['seq']
    seq_dir.mkdir()
    path = seq_dir / 'camera50.seq'
    write_seq(str(path), _frames(3), codec='jpg')
    with SeqReader(str(path)) as r:
        off = r.seek_table[1][0]
    data = bytearray(path.read_bytes())
    data[off:off + 2] = b'\0\0'  # destroy frame 1's JPEG signature
    path.write_bytes(bytes(data))
    with pytest.raises(SeqFormatError, match=r'frame 1 \(0-based\) at byte offset'):
        extract_camera(str(tmp_path), 50, progress=False)
    assert (tmp_path / HDA_LAYOUT['frames'] / 'cam50' / 'I00001.jpg').exists()


def test_extraction_refuses_a_cut_frame_and_writes_atomically(tmp_path):
    """A frame whose JPEG is cut in half, with a consistent size field: the frames before
    it are written, it is named, and no partial file is left under a final name."""
    root = tmp_path / 'rel'
    seq_dir = root / 'hda_image_sequences_matlab'
    seq_dir.mkdir(parents=True)
    frames = _frames(3)
    enc = [cv2.imencode('.jpg', f)[1].tobytes() for f in frames]
    enc[1] = enc[1][:len(enc[1]) // 2]  # cut, but stored with its own (consistent) size
    path = str(seq_dir / 'camera40.seq')
    write_seq(path, frames, codec='jpg')
    header = open(path, 'rb').read(1024)
    body = b''.join(struct.pack('<I', len(e) + 4) + e + b'\0' * 8 for e in enc)
    open(path, 'wb').write(header + body)
    with pytest.raises(SeqFormatError, match=r'camera40\.seq: frame 1 \(0-based\) at byte offset '
                                             r'\d+ is cut: .* do not end with the JPG end marker'):
        extract_camera(str(root), 40, progress=False)
    written = sorted(os.listdir(root / 'hda_frames' / 'cam40'))
    assert written == ['I00001.jpg']  # frame 0 only, no temporary or partial file


def test_empty_frame_file_is_named(synthetic_release, tmp_path):
    import shutil

    from hda_plugin.datasets import HDADataset
    root = tmp_path / 'copy'
    shutil.copytree(synthetic_release, root)
    (root / 'hda_frames' / 'cam19' / 'I00003.jpg').write_bytes(b'')
    with pytest.raises(ValueError, match=r'cam19/I00003\.jpg: frame 3 of cam19 is an empty '
                                         r'\(0-byte\) file'):
        HDADataset(data_root=str(root), cameras=[19], test_mode=True)
