"""Text readers stream, errors quote a bounded part of a bad line, and a frame is checked
against the .seq header before it is decoded: crafted input costs neither memory nor a
33-million-character message."""
import struct
import subprocess
import sys

import cv2
import numpy as np
import pytest
from conftest import ROOT, run_env

from hda_plugin.fileio.alld import AllDFormatError, read_alld, write_alld
from hda_plugin.fileio.jpeg import encoded_shape
from hda_plugin.fileio.seq import SeqFormatError, SeqReader, write_seq
from hda_plugin.fileio.text_format_error import MAX_LINE_ENV, MAX_QUOTE, TextFormatError
from hda_plugin.fileio.vbb import VbbFormatError, load_vbb, parse_vbb

SPARSE = 256 << 20


def _sparse(path, size=SPARSE, head=b''):
    with open(path, 'wb') as f:
        f.write(head)
        f.truncate(size)  # all NULs after head, no line end: one 256 MB line
    return str(path)


def _peak_rss_delta_kib(setup: str, call: str) -> str:
    """Peak RSS (KiB) of ``call`` above that of ``setup`` (a baseline run on a small file), in
    a fresh process; ``call``'s exception is printed, not raised."""
    script = f"""
import resource, sys
sys.path.insert(0, {ROOT!r})
from hda_plugin.fileio.alld import read_alld
from hda_plugin.fileio.seq import SeqReader
from hda_plugin.fileio.vbb import load_vbb
{setup}
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    {call}
    print('no error')
except ValueError as e:
    print(type(e).__name__, len(str(e)), str(e))
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base)
"""
    out = subprocess.run([sys.executable, '-c', script], env=run_env(), capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


# -- case 3: messages quote at most about MAX_QUOTE characters --------------------------------
def test_error_quotes_a_bounded_part_of_a_huge_line():
    e = TextFormatError('cam17.txt', 3, 'numbers', '\0' * (8 << 20), 'fix it.')
    msg = str(e)
    assert len(msg) < MAX_QUOTE + 200, len(msg)
    assert msg.startswith("cam17.txt:3: malformed text: expected numbers, got '\\x00")
    assert '... [cut: 8,388,608 characters in all]. fix it.' in msg
    short = str(TextFormatError('a.txt', 1, 'x', 'abc'))
    assert short == "a.txt:1: malformed text: expected x, got 'abc'."  # as before


def test_vbb_and_alld_errors_on_an_8mb_line_stay_short(tmp_path):
    line = 'pos =[' + '\0' * (8 << 20) + ']'
    text = "% vbb version=1.400000\nnFrame=3 n=1\nlog=[0]\nlbl='p' str=1 end=1 hide=0\n" + \
        line + '\nposv=[0 0 0 0]\nocc=[0]\nlock=[0]\n'
    with pytest.raises(VbbFormatError) as e:
        parse_vbb(text, 'cam17.txt')
    assert str(e.value).startswith('cam17.txt:5: malformed vbb 1.4 annotation: expected 4 ')
    assert len(str(e.value)) < 600 and '8,388,608 characters in all' in str(e.value)
    p = tmp_path / 'allD.txt'
    p.write_bytes(b'17,1,1,2,3,4,0.9\n' + b'1,' * (30 << 10) + b'\n')  # 60 KB: under the limit
    with pytest.raises(AllDFormatError, match=r'allD\.txt:2: .*7 comma-separated .*\[cut: '
                                              r'61,440 characters in all\]') as e:
        read_alld(str(p))
    assert len(str(e.value)) < 600


# -- case 4: the readers stream, and stop at a line longer than the limit ---------------------
def test_sparse_alld_and_vbb_are_refused_at_the_line_limit(tmp_path, monkeypatch):
    alld = _sparse(tmp_path / 'allD.txt', head=b'17,1,1,2,3,4,0.9\n')
    with pytest.raises(AllDFormatError) as e:
        read_alld(alld)
    msg = str(e.value)
    assert msg.startswith(f"{alld}:2: malformed allD.txt row: expected lines of at most "
                          "65,536 bytes (a row is 7 numbers), got b'\\x00"), msg
    assert f'raise the limit: {MAX_LINE_ENV}=1048576' in msg and len(msg) < 600
    vbb = _sparse(tmp_path / 'cam17.txt')
    with pytest.raises(VbbFormatError, match=rf'cam17\.txt:1: .*expected lines of at most '
                                             rf'16,777,216 bytes .*{MAX_LINE_ENV}=268435456'):
        load_vbb(vbb)
    monkeypatch.setenv(MAX_LINE_ENV, '100')
    with pytest.raises(AllDFormatError, match=r'at most 100 bytes'):
        read_alld(alld)


def test_sparse_files_keep_memory_flat(tmp_path):
    small = tmp_path / 'small.txt'
    write_alld(str(small), 17, np.arange(1, 51), np.ones((50, 4)), np.ones(50))
    (tmp_path / 'small_vbb.txt').write_text('% vbb version=1.400000\nnFrame=3 n=0\nlog=[ ]\n')
    for name, call in (('allD.txt', 'read_alld'), ('cam17.txt', 'load_vbb')):
        big = _sparse(tmp_path / name)
        small_file = small if call == 'read_alld' else tmp_path / 'small_vbb.txt'
        out = _peak_rss_delta_kib(f'{call}({str(small_file)!r})', f'{call}({big!r})')
        assert 'FormatError' in out and 'expected lines of at most' in out, out
        delta_kib = int(out.split()[-1])
        print(f'{call} on a 256 MB sparse file: peak RSS +{delta_kib / 1024:.1f} MiB over the '
              'baseline')
        assert delta_kib < 200 * 1024, out


def test_streamed_alld_reads_what_the_whole_file_reader_read(tmp_path):
    """Batches of lines give the rows, blank counts and line numbers of one read."""
    rng = np.random.default_rng(0)
    n = 60000  # about 3 MB: several batches
    boxes = rng.uniform(0, 1000, (n, 4))
    frames = rng.integers(1, 10000, n)
    p = str(tmp_path / 'allD.txt')
    write_alld(p, 17, frames, boxes, rng.random(n))
    text = open(p).read().replace('\n', '\r\n', 7).replace(',', ' ', 40)  # a slow batch too
    lines = text.split('\n')
    lines.insert(30000, '')  # a blank line in the middle
    open(p, 'w', newline='').write('\n'.join(lines))
    a = read_alld(p)
    assert len(a) == n and a.counts == dict(rows=n, blank=1)
    assert (a.frame == frames).all() and np.allclose(a.boxes, boxes)
    lines[45000] = '17,3,1,2,-3,4,0.5'
    open(p, 'w', newline='').write('\n'.join(lines))
    with pytest.raises(AllDFormatError, match=r'allD\.txt:45001: .*w >= 0 and h >= 0'):
        read_alld(p)


# -- case 5: an encoded frame's own size is checked before decoding ---------------------------
def _claiming(jpeg: bytes, h: int, w: int) -> bytes:
    """The JPEG with its SOF0 frame header saying ``h`` x ``w``; nothing else changed."""
    sof = jpeg.find(b'\xff\xc0')
    assert sof > 0
    return jpeg[:sof + 5] + struct.pack('>HH', h, w) + jpeg[sof + 9:]


def _bomb_seq(path) -> str:
    """A 640x480 .seq whose one JPEG frame says 12000x12000 (1.6 KB: 412 MiB decoded)."""
    write_seq(str(path), [np.full((480, 640, 3), 90, np.uint8)], quality=50)
    data = bytearray(open(path, 'rb').read())
    size = struct.unpack_from('<I', data, 1024)[0]
    jpeg = bytes(data[1028:1024 + size])
    bomb = _claiming(jpeg, 12000, 12000)
    assert encoded_shape(bomb) == (12000, 12000) and len(bomb) == len(jpeg)
    data[1028:1024 + size] = bomb
    open(path, 'wb').write(bytes(data))
    return str(path)


def test_seq_frame_claiming_another_size_is_refused_before_decoding(tmp_path):
    path = _bomb_seq(tmp_path / 'camera17.seq')
    with SeqReader(path) as r:
        assert (r.width, r.height) == (640, 480)
        with pytest.raises(SeqFormatError) as e:
            r.read(0)
    msg = str(e.value)
    assert msg == (f'{path}: frame 0 (0-based) at byte offset 1028: the JPEG image is '
                   '12000x12000, but the .seq header (byte offsets 548, 552) says 640x480; it '
                   'was not decoded (that would take 412 MiB); the video is corrupt or '
                   'crafted.')


def test_seq_frame_of_another_format_or_size_is_refused(tmp_path):
    good = tmp_path / 'good.seq'
    write_seq(str(good), [np.full((48, 64, 3), 90, np.uint8)] * 2, codec='png')
    with SeqReader(str(good)) as r:
        assert r.read(1).shape == (48, 64, 3)
    data = bytearray(good.read_bytes())
    png = cv2.imencode('.png', np.zeros((4800, 64, 3), np.uint8))[1].tobytes()
    size = struct.unpack_from('<I', data, 1024)[0]
    bad = bytes(data[:1024]) + struct.pack('<I', len(png) + 4) + png + bytes(data[1024 + size:])
    (tmp_path / 'bad.seq').write_bytes(bad)
    with SeqReader(str(tmp_path / 'bad.seq')) as r:
        with pytest.raises(SeqFormatError, match=r'bad\.seq: frame 0 .*the PNG image is 64x4800, '
                                                 r'but the \.seq header .* says 64x48'):
            r.read(0)
        assert r.read(1).shape == (48, 64, 3)
    jpeg = cv2.imencode('.jpg', np.zeros((48, 64, 3), np.uint8))[1].tobytes()
    bad = bytes(data[:1024]) + struct.pack('<I', len(jpeg) + 4) + jpeg + bytes(data[1024 + size:])
    (tmp_path / 'bad.seq').write_bytes(bad)
    with SeqReader(str(tmp_path / 'bad.seq')) as r:
        with pytest.raises(SeqFormatError, match=r'frame 0 .*do not start with the PNG signature'):
            r.read(0)


def test_extraction_refuses_the_frame_too(tmp_path):
    from hda_plugin.datasets.frames import extract_camera
    from hda_plugin.fileio.hda_layout import HDA_LAYOUT
    seq_dir = tmp_path / HDA_LAYOUT['seq']
    seq_dir.mkdir(parents=True)
    _bomb_seq(seq_dir / 'camera17.seq')
    with pytest.raises(SeqFormatError, match=r'frame 0 \(0-based\) at byte offset 1028 is '
                                             r'refused: the JPEG image is 12000x12000'):
        extract_camera(str(tmp_path), 17, progress=False)


def test_seq_bomb_keeps_memory_flat(tmp_path):
    bomb = _bomb_seq(tmp_path / 'camera17.seq')
    good = tmp_path / 'good.seq'
    write_seq(str(good), [np.full((480, 640, 3), 90, np.uint8)])
    out = _peak_rss_delta_kib(f'SeqReader({str(good)!r}).read(0)',
                              f'SeqReader({bomb!r}).read(0)')
    assert 'SeqFormatError' in out and '12000x12000' in out, out
    delta_kib = int(out.split()[-1])
    print(f'.seq frame claiming 12000x12000: peak RSS +{delta_kib / 1024:.1f} MiB over the '
          'baseline')
    assert delta_kib < 200 * 1024, out
