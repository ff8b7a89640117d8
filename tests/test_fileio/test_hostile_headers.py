"""Crafted headers and numbers: a clear error naming file and field, memory bounded."""
import json
import os.path as osp
import struct
import subprocess
import sys

import pytest
from conftest import ROOT, run_env

from hda_plugin.fileio import SeqFormatError, SeqReader, TFRecordError, VbbFormatError, load_vbb
from hda_plugin.fileio.tfrecord import iter_records, masked_crc32c


def raw_seq(path, w=8, h=4, bits=8, size=None, frames=3, stored=3):
    header = bytearray(1024)
    struct.pack_into('<I', header, 0, 0xFEED)
    header[4:24] = 'Norpix seq'.encode('utf-16-le')
    struct.pack_into('<iI', header, 28, 5, 1024)
    size = w * h * bits // 8 if size is None else size
    struct.pack_into('<9I', header, 548, w, h, bits, bits, size, 100, frames, 0, size + 8)
    body = b''.join(bytes([7] * size) + b'\0' * 8 for _ in range(stored))
    path.write_bytes(bytes(header) + body)
    return str(path)


def test_seq_header_counts_and_sizes_are_checked(tmp_path):
    with pytest.raises(SeqFormatError, match=r'zero\.seq: raw frames of 8x4 at 8 bits .* are '
                                             r'32 bytes, but the header.s image size'):
        SeqReader(raw_seq(tmp_path / 'zero.seq', size=0, frames=2**32 - 1))
    with pytest.raises(SeqFormatError, match=r'big\.seq: header width x height .* is '
                                             r'65536x65536; expected 1\.\.32768'):
        SeqReader(raw_seq(tmp_path / 'big.seq', w=65536, h=65536, size=0))
    path = raw_seq(tmp_path / 'many.seq', frames=2**32 - 1, stored=3)
    with pytest.raises(SeqFormatError, match=r'many\.seq: frame 3 .* declares 4294967295 '
                                             r'frames, 3 are complete'):
        SeqReader(path)
    with SeqReader(path, strict=False) as r:
        assert len(r) == 3 and r.truncated_at == 3


VBB = """% vbb version=1.400000
nFrame={n} n=1
log=[0]
-----------------------------------
lbl='person01' str=1 end=2 hide=0
pos =[{pos}; 1 2 3 4]
posv=[0 0 0 0; 0 0 0 0]
occl=[0 0]
lock=[0 0]
"""


@pytest.mark.parametrize('n, pos, line, what', [
    (10**9, '1 2 3 4', 2, r'expected nFrame <= 10,000,000'),
    (3, 'nan 2 3 4', 6, r'expected finite numbers in pos'),
    (3, '1 2 inf 4', 6, r'expected finite numbers in pos'),
])
def test_vbb_frame_count_and_non_finite_numbers(tmp_path, n, pos, line, what):
    path = tmp_path / 'cam17.txt'
    path.write_text(VBB.format(n=n, pos=pos))
    with pytest.raises(VbbFormatError, match=rf'cam17\.txt:{line}: malformed vbb.*{what}'):
        load_vbb(str(path))


def test_vbb_with_non_utf8_bytes_names_line_and_offset(tmp_path):
    path = tmp_path / 'cam18.txt'
    text = VBB.format(n=3, pos='1 2 3 4').replace('person01', 'pers\xe9')
    path.write_bytes(text.encode('latin1'))
    with pytest.raises(VbbFormatError, match=r'cam18\.txt:5: malformed vbb.*UTF-8 text.*byte '
                                             r'offset \d+'):
        load_vbb(str(path))


def test_tfrecord_length_is_checked_against_the_file_before_reading(tmp_path):
    head = struct.pack('<Q', 2**40)
    path = tmp_path / 'x.tfrecord'
    path.write_bytes(head + struct.pack('<I', masked_crc32c(head)) + b'\0' * 16)
    with pytest.raises(TFRecordError, match=r'record 0 at byte offset 0: declares '
                                            r'1099511627776 data bytes'):
        list(iter_records(str(path)))
    rep = subprocess.run([sys.executable, 'tools/analysis/inspect_tfrecord.py', str(path),
                          '--json'], cwd=ROOT, env=run_env(), capture_output=True, text=True)
    assert rep.returncode == 1 and 'declares 1099511627776' in json.loads(rep.stdout)['errors'][0]


def test_crafted_headers_keep_memory_flat(tmp_path):
    """Peak RSS of reading every crafted file stays within 200 MB of the baseline."""
    raw_seq(tmp_path / 'many.seq', frames=2**32 - 1, stored=3)
    (tmp_path / 'cam17.txt').write_text(VBB.format(n=10**9, pos='1 2 3 4'))
    script = f"""
import resource, sys
sys.path.insert(0, {ROOT!r})
from hda_plugin.fileio import SeqReader, load_vbb
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
for f in (lambda: SeqReader({str(tmp_path / 'many.seq')!r}, strict=False),
          lambda: load_vbb({str(tmp_path / 'cam17.txt')!r})):
    try:
        f()
    except ValueError:
        pass
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base)
"""
    out = subprocess.run([sys.executable, '-c', script], env=run_env(), capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.split()[-1]) < 200 * 1024, out.stdout  # KiB
    assert osp.exists(tmp_path / 'many.seq')
