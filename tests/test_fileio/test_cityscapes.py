"""CityPersons naming rules and JSON reader (hda_plugin/fileio/cityscapes.py), and the image
header reader (hda_plugin/fileio/image_header.py)."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest

from hda_plugin.fileio.cityscapes import (
    CityPersonsFormatError,
    annotation_path,
    image_path,
    list_split,
    load_citypersons_json,
    parse_citypersons_json,
)
from hda_plugin.fileio.image_header import read_image_shape
from hda_plugin.testing.citypersons_release import (
    CityPersonsBox,
    CityPersonsImage,
    citypersons_json,
    make_citypersons_release,
)


def test_paths_follow_the_cityscapes_layout():
    assert image_path('/r', 'val', 'frankfurt', 'frankfurt_000000_000294') == \
        '/r/leftImg8bit/val/frankfurt/frankfurt_000000_000294_leftImg8bit.png'
    assert annotation_path('/r', 'train', 'aachen', 'aachen_000000_000019') == \
        '/r/gtBboxCityPersons/train/aachen/aachen_000000_000019_gtBboxCityPersons.json'


def test_list_split_pairs_by_city_and_stem(tmp_path):
    root = str(tmp_path)
    make_citypersons_release(root)
    pairs = list_split(root, 'val')
    assert [(p.city, p.stem) for p in pairs] == [
        ('frankfurt', 'frankfurt_000000_000294'), ('frankfurt', 'frankfurt_000000_000576'),
        ('munster', 'munster_000001_000019')]
    assert all(osp.isfile(p.img_path) and osp.isfile(p.ann_path) for p in pairs)
    assert [p.city for p in list_split(root, 'val', cities=['munster'])] == ['munster']
    with pytest.raises(FileNotFoundError, match=r"no city \['bonn'\].*frankfurt"):
        list_split(root, 'val', cities=['bonn'])
    with pytest.raises(FileNotFoundError, match='CITYPERSONS_ROOT'):
        list_split(root, 'test')


def test_list_split_reports_an_unpaired_file(tmp_path):
    root = str(tmp_path)
    img = CityPersonsImage('bonn', 0, 1)
    make_citypersons_release(root, {'val': [img]}, write_png=False)
    (pair, ) = list_split(root, 'val')
    assert pair.img_path is None and pair.ann_path.endswith('_gtBboxCityPersons.json')


def test_json_reader_returns_every_object(tmp_path):
    img = CityPersonsImage('bonn', 0, 1, [
        CityPersonsBox('pedestrian', (1, 2, 10, 20), (1, 2, 5, 20)),
        CityPersonsBox('ignore', (30.5, 4, 8, 9))], width=64, height=48)
    path = tmp_path / 'a_gtBboxCityPersons.json'
    path.write_text(citypersons_json(img))
    ann = load_citypersons_json(str(path))
    assert (ann.img_width, ann.img_height) == (64, 48)
    assert [(o.index, o.label, o.bbox, o.bbox_vis) for o in ann.objects] == [
        (0, 'pedestrian', (1., 2., 10., 20.), (1., 2., 5., 20.)),
        (1, 'ignore', (30.5, 4., 8., 9.), (30.5, 4., 8., 9.))]
    assert ann.objects[0].instance_id == 24000


def _doc(**kw):
    doc = dict(imgHeight=10, imgWidth=20, objects=[
        dict(label='pedestrian', bbox=[1, 1, 2, 2], bboxVis=[1, 1, 2, 2]),
        dict(label='rider', bbox=[1, 1, 2, 2], bboxVis=[1, 1, 2, 2])])
    doc.update(kw)
    return doc


_PEDESTRIAN = _doc()['objects'][0]
_CASES = [
    (b'{\n  "imgHeight": 10,\n  "imgWidth": 20,\n  "objects": [\n    {"label": }\n',
     r'x\.json:5:15: invalid JSON'),
    (_doc(objects=[_PEDESTRIAN, dict(label='rider', bbox=[1, 1, 2, 2])]),
     r"x\.json: objects\[1\]: missing key 'bboxVis'"),
    ({'imgWidth': 20, 'objects': []}, r"x\.json: missing key 'imgHeight'"),
    (_doc(imgWidth='20'), r'x\.json: imgWidth must be a positive'),
    (_doc(objects=[dict(_PEDESTRIAN, bbox=[1, 1, 2])]),
     r'x\.json: objects\[0\]\.bbox: expected \[x, y, w, h\]'),
    (b'{"imgHeight": 10, "imgWidth": 20, "objects": [{"label": "p", "bbox": [NaN, 1, 2, 2], '
     b'"bboxVis": [1, 1, 2, 2]}]}', r'x\.json: invalid JSON value: NaN'),
    (b'[1, 2]', r'x\.json: expected a JSON object'),
    (b'\xff\xfe', r'x\.json: byte 0 is not UTF-8'),
]


@pytest.mark.parametrize('data, match', _CASES)
def test_json_errors_name_file_and_place(data, match):
    if isinstance(data, dict):
        data = json.dumps(data).encode()
    with pytest.raises(CityPersonsFormatError, match=match):
        parse_citypersons_json(data, 'x.json')


def test_image_header_reader(tmp_path):
    img = np.zeros((37, 53, 3), np.uint8)
    for ext in ('.png', '.jpg'):
        path = str(tmp_path / f'a{ext}')
        cv2.imwrite(path, img)
        assert read_image_shape(path) == (37, 53)
    # a JPEG whose SOF lies beyond the first 64 KiB (a large APP segment before it)
    data = open(str(tmp_path / 'a.jpg'), 'rb').read()
    big = data[:2] + b'\xff\xe2\xff\xff' + b'\0' * 0xfffd + b'\xff\xe2\x10\x00' + \
        b'\0' * 0x0ffe + data[2:]
    assert big.index(b'\xff\xc0') > 1 << 16  # two APP2 segments (64 KiB, 4 KiB) first
    (tmp_path / 'big.jpg').write_bytes(big)
    assert read_image_shape(str(tmp_path / 'big.jpg')) == (37, 53)
    (tmp_path / 'empty.png').write_bytes(b'')
    with pytest.raises(ValueError, match=r'empty\.png: expected a JPEG or PNG image, found an '
                                         'empty file'):
        read_image_shape(str(tmp_path / 'empty.png'))
    (tmp_path / 'cut.png').write_bytes(b'\x89PNG\r\n\x1a\n\0\0')
    with pytest.raises(ValueError, match=r'cut\.png: the image header does not parse'):
        read_image_shape(str(tmp_path / 'cut.png'))
