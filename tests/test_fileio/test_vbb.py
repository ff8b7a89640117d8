import numpy as np
import pytest

from hda_plugin.fileio.vbb import (
    VbbAnnotation,
    VbbFormatError,
    VbbObject,
    dump_vbb,
    load_vbb,
    parse_vbb,
)

GOOD = """% vbb version=1.400000
nFrame=5 n=2
log=[0.000000 1.000000 ]

-----------------------------------
lbl='person07' str=2 end=4 hide=0
pos =[10.000000 20.000000 30.000000 75.000000; 12.000000 20.000000 30.000000 75.000000; 14.000000 20.000000 30.000000 75.000000]
posv=[0.000000 0.000000 0.000000 0.000000; 0.000000 0.000000 0.000000 0.000000; 14.000000 20.000000 30.000000 40.000000]
occl=[0 0 1]
lock=[1 0 0]

-----------------------------------
lbl='crowd' str=1 end=1 hide=1
pos =[100.000000 50.000000 60.000000 40.000000]
posv=[0.000000 0.000000 0.000000 0.000000]
occl=[0]
lock=[0]
"""


def test_parse_fields_and_per_frame():
    ann = parse_vbb(GOOD, 'cam17.txt')
    assert ann.n_frames == 5
    np.testing.assert_allclose(ann.log, [0.0, 1.0])
    p, c = ann.objects
    assert (p.label, p.start, p.end, p.hide) == ('person07', 2, 4, 0)
    np.testing.assert_allclose(p.box_at(3), [12, 20, 30, 75])
    assert p.occl.tolist() == [0, 0, 1] and p.lock.tolist() == [1, 0, 0]
    assert p.line_no == 6 and c.line_no == 13
    assert (c.label, c.hide) == ('crowd', 1)
    frames = ann.per_frame()
    # object enters at frame 2, leaves after 4; crowd only in frame 1
    assert [len(f) for f in frames] == [1, 1, 1, 1, 0]
    assert frames[0][0][0].label == 'crowd'
    assert frames[3][0] == (p, 2)


def test_roundtrip_dump_parse():
    ann = parse_vbb(GOOD)
    again = parse_vbb(dump_vbb(ann))
    assert again.n_frames == ann.n_frames
    for a, b in zip(ann.objects, again.objects):
        assert (a.label, a.start, a.end, a.hide) == (b.label, b.start, b.end, b.hide)
        np.testing.assert_allclose(a.pos, b.pos)
        np.testing.assert_allclose(a.posv, b.posv)
        assert a.occl.tolist() == b.occl.tolist()


def test_dump_uses_percent_f_and_crlf_tolerated(tmp_path):
    ann = VbbAnnotation(n_frames=1, objects=[VbbObject(
        'person01', 1, 1, 0, np.array([[1, 2, 3, 4.5]]), np.zeros((1, 4)), np.zeros(1, int),
        np.zeros(1, int))], log=np.zeros(0))
    text = dump_vbb(ann)
    assert 'pos =[1.000000 2.000000 3.000000 4.500000]' in text
    path = tmp_path / 'cam01.txt'
    path.write_bytes(text.replace('\n', '\r\n').encode())
    assert load_vbb(str(path)).objects[0].pos[0, 3] == 4.5


def test_empty_file_without_objects():
    ann = parse_vbb('% vbb version=1.400000\nnFrame=3 n=0\nlog=[ ]\n')
    assert ann.n_frames == 3 and ann.objects == []


@pytest.mark.parametrize('bad, line, words', [
    (GOOD.replace('% vbb version=1.400000', '% vbb version=1.300000'), 1, 'version 1.4'),
    (GOOD.replace('nFrame=5 n=2', 'nFrames=5'), 2, 'nFrame=<frames>'),
    (GOOD.replace("lbl='person07' str=2", "lbl=person07 str=2"), 6, "lbl='<label>'"),
    (GOOD.replace('14.000000 20.000000 30.000000 75.000000]', '14.000000 20.000000 30.000000]'),
     7, '4 numbers per row'),
    (GOOD.replace('occl=[0 0 1]', 'occl=[0 0]'), 9, '3 rows in occl'),
    (GOOD.replace('str=2 end=4', 'str=4 end=9'), 6, '1 <= str <= end <= nFrame=5'),
    (GOOD.replace('lock=[1 0 0]', 'lokc=[1 0 0]'), 10, 'lock=[...]'),
    (GOOD.replace('nFrame=5 n=2', 'nFrame=5 n=3'), 18, 'object 3 of 3'),
    (GOOD.replace('nFrame=5 n=2', 'nFrame=5 n=1'), 13, 'end of file after n=1 objects'),
    (GOOD.replace('12.000000 20.000000', '12.000000 abc'), 7, 'numbers in pos'),
])
def test_malformed_names_file_line_and_expectation(bad, line, words):
    with pytest.raises(VbbFormatError) as e:
        parse_vbb(bad, 'hda_annotations/cam17.txt')
    msg = str(e.value)
    assert msg.startswith(f'hda_annotations/cam17.txt:{line}:'), msg
    assert words in msg, msg
    assert e.value.line_no == line
