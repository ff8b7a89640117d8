"""CrowdHuman's .odgt reader and naming rules (hda_plugin/fileio/odgt.py)."""
import json

import pytest

from hda_plugin.fileio.odgt import (
    OdgtFormatError,
    crowdhuman_image_path,
    load_odgt,
    odgt_filename,
)


def _box(**kw):
    box = dict(tag='person', fbox=[1, 2, 10, 20], vbox=[1, 2, 10, 10], hbox=[4, 2, 3, 3],
               extra=dict(box_id=0, occ=1), head_attr=dict(ignore=0))
    box.update(kw)
    return box


def _write(tmp_path, lines):
    path = tmp_path / 'annotation_val.odgt'
    path.write_text(''.join(line + '\n' for line in lines))
    return str(path)


def test_names():
    assert odgt_filename('val') == 'annotation_val.odgt'
    assert crowdhuman_image_path('/r/Images', '273271,c9db000d5146c15') == \
        '/r/Images/273271,c9db000d5146c15.jpg'


def test_records_and_boxes(tmp_path):
    mask = _box(tag='mask', extra=dict(ignore=1))
    del mask['head_attr']
    path = _write(tmp_path, [
        json.dumps(dict(ID='a,1', gtboxes=[_box(), mask, _box(extra=dict(ignore=1))])),
        '',  # blank lines are skipped
        json.dumps(dict(ID='b,2', gtboxes=[]))])
    a, b = load_odgt(path)
    assert (a.line_no, a.id, b.line_no, b.id, b.boxes) == (1, 'a,1', 3, 'b,2', [])
    assert [(x.index, x.tag, x.fbox, x.vbox, x.ignore) for x in a.boxes] == [
        (0, 'person', (1., 2., 10., 20.), (1., 2., 10., 10.), 0),
        (1, 'mask', (1., 2., 10., 20.), (1., 2., 10., 10.), 1),
        (2, 'person', (1., 2., 10., 20.), (1., 2., 10., 10.), 1)]


@pytest.mark.parametrize('line2, match', [
    ('{"ID": "b", "gtboxes": [', r'annotation_val\.odgt:2: .*Column 25'),
    (json.dumps(dict(gtboxes=[])), r"annotation_val\.odgt:2: .*Missing key 'ID'"),
    (json.dumps(dict(ID='b')), r"annotation_val\.odgt:2: .*Missing key 'gtboxes'"),
    (json.dumps(dict(ID='b', gtboxes=[_box(), {k: v for k, v in _box().items() if k != 'vbox'}])),
     r"annotation_val\.odgt:2: .*key 'vbox' in gtboxes\[1\].*Missing key 'vbox' in box 1"),
    (json.dumps(dict(ID='b', gtboxes=[_box(fbox=[1, 2, 3])])),
     r'annotation_val\.odgt:2: .*gtboxes\[0\]\.fbox as \[x, y, w, h\]'),
    (json.dumps(dict(ID='b', gtboxes=[_box(extra=[])])),
     r'annotation_val\.odgt:2: .*gtboxes\[0\]\.extra as a JSON object'),
    (json.dumps(dict(ID='a', gtboxes=[])), r"annotation_val\.odgt:2: .*ID 'a' is already on "
                                           'line 1'),
    ('[1]', r'annotation_val\.odgt:2: .*a JSON object'),
    ('{"ID": "b", "gtboxes": [{"tag": "person", "fbox": [NaN, 1, 1, 1], "vbox": [1, 1, 1, 1], '
     '"hbox": [1, 1, 1, 1]}]}', r'annotation_val\.odgt:2: .*finite numbers'),
])  # noqa: E501
def test_errors_name_file_line_and_key(tmp_path, line2, match):
    path = _write(tmp_path, [json.dumps(dict(ID='a', gtboxes=[_box()])), line2])
    with pytest.raises(OdgtFormatError, match=match):
        load_odgt(path)


def test_box_keys_can_be_relaxed(tmp_path):
    box = {k: v for k, v in _box().items() if k not in ('vbox', 'hbox')}
    path = _write(tmp_path, [json.dumps(dict(ID='a', gtboxes=[box]))])
    with pytest.raises(OdgtFormatError, match="Missing key 'vbox'"):
        load_odgt(path)
    (rec, ) = load_odgt(path, box_keys=('tag', 'fbox'))
    assert rec.boxes[0].vbox is None and rec.boxes[0].hbox is None
