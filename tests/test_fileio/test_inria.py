"""The INRIA Person reader: every field of a "PASCAL Annotation Version 1.00" file, the
release's lists and naming rules, and the errors naming file and line."""
import os.path as osp

import pytest

from hda_plugin.fileio.inria import (
    PascalAnnotationError,
    annotation_rel_path,
    list_path,
    load_pascal_annotation,
    parse_pascal_annotation,
    read_list,
)
from hda_plugin.testing.inria_release import pascal_annotation_text

# The release's own example (Train/annotations/crop001011.txt), CRLF line ends as in some
# copies of the release.
TEXT = """# PASCAL Annotation Version 1.00\r
\r
Image filename : "Train/pos/crop001011.png"\r
Image size (X x Y x C) : 1124 x 826 x 3\r
Database : "The INRIA Rh\u00f4ne-Alpes Annotated Person Database"\r
Objects with ground truth : 2 { "PASperson" "PASperson" }\r
\r
# Note that there might be other objects in the image\r
# for which ground truth data has not been provided.\r
\r
# Top left pixel co-ordinates : (0, 0)\r
\r
# Details for object 1 ("PASperson")\r
# Center point -- not available in other PASCAL databases -- refers\r
# to person head center\r
Original label for object 1 "PASperson" : "UprightPerson"\r
Center point on object 1 "PASperson" (X, Y) : (344, 235)\r
Bounding box for object 1 "PASperson" (Xmin, Ymin) - (Xmax, Ymax) : (164, 176) - (433, 784)\r
\r
# Details for object 2 ("PASperson")\r
Original label for object 2 "PASperson" : "UprightPerson"\r
Center point on object 2 "PASperson" (X, Y) : (642, 229)\r
Bounding box for object 2 "PASperson" (Xmin, Ymin) - (Xmax, Ymax) : (530, 167) - (760, 773)\r
"""


def test_every_field_of_the_release_example():
    ann = parse_pascal_annotation(TEXT, 'crop001011.txt')
    assert ann.path == 'crop001011.txt'
    assert ann.filename == 'Train/pos/crop001011.png'
    assert (ann.width, ann.height, ann.channels, ann.size_line) == (1124, 826, 3, 4)
    assert ann.database == 'The INRIA Rh\u00f4ne-Alpes Annotated Person Database'
    assert ann.declared == ['PASperson', 'PASperson']
    assert ann.origin == (0, 0)
    assert [(o.index, o.label, o.original_label, o.center, o.bbox, o.line_no)
            for o in ann.objects] == [
        (1, 'PASperson', 'UprightPerson', (344., 235.), (164., 176., 433., 784.), 18),
        (2, 'PASperson', 'UprightPerson', (642., 229.), (530., 167., 760., 773.), 23)]


def test_latin1_file_and_the_writer_round_trip(tmp_path):
    path = tmp_path / 'crop001001.txt'
    path.write_bytes(pascal_annotation_text('Test/pos/crop001001.png', 50, 60,
                                            [(1, 2, 30, 55)]).encode('latin-1'))
    assert b'Rh\xf4ne' in path.read_bytes()  # latin-1, not UTF-8
    ann = load_pascal_annotation(str(path))
    assert ann.database.startswith('The INRIA Rh\u00f4ne-Alpes')
    assert (ann.filename, ann.width, ann.height) == ('Test/pos/crop001001.png', 50, 60)
    assert [o.bbox for o in ann.objects] == [(1., 2., 30., 55.)]
    assert ann.objects[0].center == (15., 12.)


def test_no_objects_and_a_shifted_origin():
    text = ('Image filename : "Train/pos/a.png"\nImage size (X x Y x C) : 5 x 6 x 1\n'
            'Objects with ground truth : 0 { }\n# Top left pixel co-ordinates : (1, 1)\n')
    ann = parse_pascal_annotation(text, 'a.txt')
    assert ann.objects == [] and ann.declared == [] and ann.origin == (1, 1)
    assert ann.database is None


def _replace(old, new):
    assert old in TEXT
    return TEXT.replace(old, new)


@pytest.mark.parametrize('text, line, words', [
    # a required field missing: reported at the end of the file
    (_replace('Image size (X x Y x C) : 1124 x 826 x 3\r\n', ''), 23, 'Image size'),
    (_replace('Image filename : "Train/pos/crop001011.png"\r\n', ''), 23, 'Image filename'),
    # the count before the braces and the labels in them disagree
    (_replace('2 { "PASperson" "PASperson" }', '3 { "PASperson" "PASperson" }'), 6,
     '3 labels in the braces'),
    # two declared, one bounding box found
    (_replace('Bounding box for object 2 "PASperson" (Xmin, Ymin) - (Xmax, Ymax) : '
              '(530, 167) - (760, 773)', ''), 6, 'Objects [2] have no bounding box'),
    # an object not declared
    (_replace('Bounding box for object 2 "PASperson"', 'Bounding box for object 3 "PASperson"'),
     6, 'Objects [2] have no bounding box line. Objects [3] are not declared'),
    # a line of no known field
    (_replace('Center point on object 2', 'Centre point on object 2'), 22, 'Centre point'),
    # a box with a missing coordinate
    (_replace('(530, 167) - (760, 773)', '(530, 167) - (760)'), 23, 'PASCAL Annotation'),
    # the same field twice
    (_replace('Database', 'Image size (X x Y x C) : 1 x 1 x 3\r\nDatabase'), 5,
     'already given on line 4'),
    # an object's label differs from the declaration
    (_replace('{ "PASperson" "PASperson" }', '{ "PASperson" "PAScar" }'), 21,
     "expected object 2 labelled 'PAScar' as declared on line 6, got 'PASperson'"),
    # two lines of one object name different labels
    (_replace('Center point on object 2 "PASperson"', 'Center point on object 2 "PAScar"'),
     22, 'as on line 21'),
    # a second bounding box for one object
    (TEXT + 'Bounding box for object 2 "PASperson" (Xmin, Ymin) - (Xmax, Ymax) : '
     '(1, 1) - (9, 9)\r\n', 24, 'already has one on line 23'),
])
def test_errors_name_file_and_line(text, line, words):
    with pytest.raises(PascalAnnotationError) as e:
        parse_pascal_annotation(text, '/r/Train/annotations/crop001011.txt')
    msg = str(e.value)
    assert msg.startswith(f'/r/Train/annotations/crop001011.txt:{line}: '), msg
    assert words in msg
    assert e.value.line_no == line


def test_oversized_annotation_file(tmp_path):
    path = tmp_path / 'big.txt'
    path.write_bytes(b'#' * (2 << 20))
    with pytest.raises(PascalAnnotationError, match=r'big\.txt:1: .*at most 1,048,576 bytes'):
        load_pascal_annotation(str(path))


def test_lists_and_naming_rules(tmp_path):
    (tmp_path / 'Train').mkdir()
    (tmp_path / 'Train' / 'pos.lst').write_bytes(
        b'Train/pos/crop001001.png\r\nTrain\\pos\\crop001002.png\r\n\r\n')
    assert list_path(str(tmp_path), 'Train', 'pos') == osp.join(str(tmp_path), 'Train/pos.lst')
    assert [(e.line_no, e.rel_path) for e in read_list(str(tmp_path), 'Train', 'pos')] == [
        (1, 'Train/pos/crop001001.png'), (2, 'Train/pos/crop001002.png')]
    assert annotation_rel_path('Test/pos/crop_000001.png') == 'Test/annotations/crop_000001.txt'
    assert annotation_rel_path('Train/pos/crop001001.jpg') == 'Train/annotations/crop001001.txt'
    with pytest.raises(ValueError, match=r"'Train/neg/x\.png' is not a positive image"):
        annotation_rel_path('Train/neg/x.png')
    with pytest.raises(ValueError, match=r"split 'train'.*\['Train', 'Test'\]"):
        list_path(str(tmp_path), 'train', 'pos')


@pytest.mark.parametrize('content, line, words', [
    (b'Train/pos/a.png\nTest/pos/b.png\n', 2, 'a path of Train/pos/<name>'),
    (b'Train/pos/a.png\nINRIAPerson/Train/pos/b.png\n', 2, 'a path of Train/pos/<name>'),
    (b'Train/pos/a.png\nTrain/pos/a.png\n', 2, 'Already listed on line 1'),
])
def test_list_errors_name_file_and_line(tmp_path, content, line, words):
    (tmp_path / 'Train').mkdir()
    (tmp_path / 'Train' / 'pos.lst').write_bytes(content)
    with pytest.raises(PascalAnnotationError) as e:
        read_list(str(tmp_path), 'Train', 'pos')
    assert str(e.value).startswith(f'{tmp_path}/Train/pos.lst:{line}: ')
    assert words in str(e.value)


def test_missing_list_names_the_root(tmp_path):
    (tmp_path / 'Train').mkdir()
    with pytest.raises(FileNotFoundError, match=r'Train/neg\.lst does not exist: INRIA_ROOT '
                       r"must be the INRIAPerson folder.*\['Train'\]"):
        read_list(str(tmp_path), 'Train', 'neg')
