"""The binary vbb reader (fileio/vbb_mat.py) against the writer in vbb.m's layout and the
text reader, its errors, and that loading runs no pickle."""
import pickle

import numpy as np
import pytest
import scipy.io

from hda_plugin.fileio.vbb import VbbAnnotation, dump_vbb, load_vbb
from hda_plugin.fileio.vbb_mat import VBB_FIELDS, VbbMatError, load_any_vbb, load_vbb_mat
from hda_plugin.testing.caltech_release import default_tracks, dump_vbb_mat, vbb_mat_dict


def _ann(n=40):
    return VbbAnnotation(n_frames=n, objects=default_tracks(n, seed=3), log=np.array([1.5, 2.]))


def _same(a, b):
    assert a.n_frames == b.n_frames and len(a.objects) == len(b.objects)
    for x, y in zip(a.objects, b.objects):
        assert (x.label, x.start, x.end, x.hide) == (y.label, y.start, y.end, y.hide)
        for k in ('pos', 'posv', 'occl', 'lock'):
            np.testing.assert_array_equal(getattr(x, k), getattr(y, k), err_msg=k)


def test_layout_is_vbb_m(tmp_path):
    p = tmp_path / 'V000.vbb'
    dump_vbb_mat(_ann(), str(p))
    assert p.read_bytes().startswith(b'MATLAB 5.0 MAT-file')
    a = scipy.io.loadmat(str(p))['A'][0][0]
    assert a.dtype.names == VBB_FIELDS
    lists = a['objLists'][0]
    assert lists.size == 40
    el = lists[9][0][1]  # frame 10: the second object (1-based id 2) starts there
    assert int(el['id'][0][0]) == 2
    np.testing.assert_array_equal(el['pos'][0], [300., 205., 20., 48.])


def test_round_trip_and_text_reader_agree(tmp_path):
    ann = _ann()
    dump_vbb_mat(ann, str(tmp_path / 'a.vbb'))
    (tmp_path / 'a.txt').write_text(dump_vbb(ann))
    mat = load_vbb_mat(str(tmp_path / 'a.vbb'))
    _same(mat, ann)
    _same(mat, load_vbb(str(tmp_path / 'a.txt')))
    np.testing.assert_array_equal(mat.log, [1.5, 2.])
    # chosen by content, not by name
    (tmp_path / 'text.vbb').write_text(dump_vbb(ann))
    _same(load_any_vbb(str(tmp_path / 'text.vbb')), ann)
    _same(load_any_vbb(str(tmp_path / 'a.vbb')), ann)
    # per frame, 0-based list index = 1-based frame - 1
    frames = mat.per_frame()
    assert sorted(o.label for o, _ in frames[0]) == sorted(
        ['person', 'person', 'person', 'people', 'person-fa'])
    assert len(frames[9]) == 6 and len(frames[13]) == 7  # person? from frame 13


def test_empty_frames_and_no_objects(tmp_path):
    ann = VbbAnnotation(n_frames=5, objects=[], log=np.zeros(0))
    dump_vbb_mat(ann, str(tmp_path / 'e.vbb'))
    got = load_vbb_mat(str(tmp_path / 'e.vbb'))
    assert got.n_frames == 5 and got.objects == []


def test_cut_file_names_it(tmp_path):
    p = tmp_path / 'V001.vbb'
    dump_vbb_mat(_ann(), str(p))
    data = p.read_bytes()
    p.write_bytes(data[:len(data) // 2])
    with pytest.raises(VbbMatError, match=r'V001\.vbb: cannot read the MAT-file.*re-copy'):
        load_vbb_mat(str(p))


def test_v73_explained(tmp_path):
    p = tmp_path / 'h.vbb'
    head = b'MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: x HDF5 schema 1.00 .'
    p.write_bytes(head.ljust(512, b' ') + b'\x89HDF\r\n\x1a\n' + b'\0' * 64)
    with pytest.raises(VbbMatError, match=r'h\.vbb: a MATLAB -v7.3 \(HDF5\).*-v6'):
        load_vbb_mat(str(p))
    with pytest.raises(VbbMatError, match='-v7.3'):
        load_any_vbb(str(p))


def test_missing_fields_and_variable(tmp_path):
    p = tmp_path / 'm.vbb'
    dump_vbb_mat(_ann(), str(p), extra={'A.objEnd': None, 'A.objLbl': None})
    with pytest.raises(VbbMatError, match=r"m\.vbb: struct A lacks the fields \['objLbl', "
                                          r"'objEnd'\]"):
        load_vbb_mat(str(p))
    q = tmp_path / 'noA.vbb'
    scipy.io.savemat(str(q), {'B': np.zeros(1)})
    with pytest.raises(VbbMatError, match=r'noA\.vbb: no variable "A"'):
        load_vbb_mat(str(q))


def test_unknown_id_names_frame(tmp_path):
    ann = _ann(12)
    a = vbb_mat_dict(ann)
    a['objLists'][0, 6][0, 0]['id'] = np.array([[99.]])
    p = tmp_path / 'id.vbb'
    scipy.io.savemat(str(p), {'A': a})
    with pytest.raises(VbbMatError, match=r'id\.vbb: A\.objLists\{7\} \(frame 7, 1-based\): '
                                          r'object id 99 is out of range 1\.\.7'):
        load_vbb_mat(str(p))


def test_missing_row_names_frame(tmp_path):
    ann = _ann(12)
    a = vbb_mat_dict(ann)
    a['objLists'][0, 4] = a['objLists'][0, 4][:, 1:]  # object 1 vanishes on frame 5
    p = tmp_path / 'gap.vbb'
    scipy.io.savemat(str(p), {'A': a})
    with pytest.raises(VbbMatError, match=r"object 1 \('person'\) has no row on frame 5"):
        load_vbb_mat(str(p))


def test_nframe_and_objlists_disagree(tmp_path):
    a = vbb_mat_dict(_ann(12))
    a['nFrame'] = np.array([[13.]])
    p = tmp_path / 'n.vbb'
    scipy.io.savemat(str(p), {'A': a})
    with pytest.raises(VbbMatError, match=r'n\.vbb: A\.objLists: expected a cell of nFrame '
                                          r'= 13'):
        load_vbb_mat(str(p))


def test_no_pickle_and_matlab_objects_are_inert(tmp_path, monkeypatch):
    """loadmat parses MAT elements itself: no pickle runs, whatever the file holds. A MATLAB
    object element comes back as an inert array; put where a label belongs, it is refused."""
    from scipy.io.matlab import MatlabObject
    obj = MatlabObject(np.array([[(np.array([[1.0]]),)]], dtype=[('x', object)]),
                       classname='inline')
    ann = _ann(12)
    good = tmp_path / 'obj_extra.vbb'
    dump_vbb_mat(ann, str(good), extra={'payload': obj, 'A.altered': obj})
    bad = tmp_path / 'obj_label.vbb'
    a = vbb_mat_dict(ann)
    a['objLbl'][0, 0] = obj
    scipy.io.savemat(str(bad), {'A': a})

    def refuse(*args, **kwargs):
        raise AssertionError('pickle used while loading a .vbb')

    class Refused(pickle.Unpickler):
        def __init__(self, *args, **kwargs):
            refuse()

    monkeypatch.setattr(pickle, 'loads', refuse)
    monkeypatch.setattr(pickle, 'load', refuse)
    monkeypatch.setattr(pickle, 'Unpickler', Refused)
    raw = scipy.io.loadmat(str(good))
    assert type(raw['payload']).__name__ == 'MatlabObject'  # the object element was read
    _same(load_vbb_mat(str(good)), ann)
    with pytest.raises(VbbMatError, match=r"obj_label\.vbb: objLbl\{1\}: expected a string"):
        load_vbb_mat(str(bad))


def test_not_a_vbb(tmp_path):
    p = tmp_path / 'x.vbb'
    p.write_bytes(b'GIF89a' + b'\0' * 100)
    with pytest.raises(VbbMatError, match=r'x\.vbb: neither a vbb text file'):
        load_any_vbb(str(p))
