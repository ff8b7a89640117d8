"""The exported ONNX graph in ONNX Runtime gives the PyTorch model's detections: every box
within 1 px, scores within 1e-4, the same count above the threshold (the demo model, and
SSD-512 VGG16 at a shrunk input); the metadata record both sides share."""
import collections
import os
import os.path as osp
import re
import sys

import numpy as np
import onnx
import pytest
from conftest import DEMO_CFG, ROOT

from hda_plugin.deployment import ONNX_META_KEY, OnnxMetadata
from hda_plugin.fileio.seq import SeqReader
from hda_plugin.inference.backends import OnnxRuntimeBackend, PyTorchBackend
from hda_plugin.testing.weights import random_checkpoint

sys.path.insert(0, osp.join(ROOT, 'tools', 'deployment'))
import export_onnx  # noqa: E402

SSD512_CFG = osp.join(ROOT, 'configs', 'ssd512_hda.py')


def _frames(root, cams):
    out = []
    for cam in cams:
        with SeqReader(osp.join(root, 'hda_image_sequences_matlab', f'camera{cam}.seq')) as r:
            out += [r.read(i) for i in range(3)]
    return out


def _compare(a, b, thr):
    """Same detections above ``thr``: counts, scores within 1e-4, boxes within 1 px."""
    n_checked = 0
    for da, db in zip(a, b):
        ka, kb = da.scores >= thr, db.scores >= thr
        assert ka.sum() == kb.sum(), (ka.sum(), kb.sum())
        ba, sa = da.boxes[ka], da.scores[ka]
        bb, sb = db.boxes[kb], db.scores[kb]
        for box, score in zip(ba, sa):  # each PyTorch box has its ONNX twin
            err = np.abs(bb - box).max(1)
            j = int(err.argmin())
            assert err[j] <= 1.0, (box, bb[j])
            assert abs(sb[j] - score) <= 1e-4, (score, sb[j])
        n_checked += int(ka.sum())
    return n_checked


def _run_both(cfg, ckpt, onnx_file, frames):
    pt = PyTorchBackend(cfg, ckpt)
    ort = OnnxRuntimeBackend(cfg, onnx_file)
    inputs, samples = pt.preprocess(frames)
    times = collections.defaultdict(float)
    return pt(inputs, samples, times), ort(inputs, samples, times), pt


def test_demo_model_onnx_matches_pytorch(synthetic_release, demo_checkpoint, tmp_path):
    out = str(tmp_path / 'demo.onnx')
    assert export_onnx.main([DEMO_CFG, demo_checkpoint, out]) == 0
    onnx.checker.check_model(onnx.load(out))
    ops = {n.op_type for n in onnx.load(out).graph.node}
    assert 'NonMaxSuppression' in ops and 'TopK' in ops  # NMS and pre-NMS top-k inside
    from hda_plugin.utils.config import load_config
    cfg = load_config(DEMO_CFG)
    # 640x480 and 1280x800 frames: both letterboxed to the 320x224 input
    pt, ort, _ = _run_both(cfg, demo_checkpoint, out, _frames(synthetic_release, [17, 50]))
    for thr in (0.02, 0.3):  # the config's score_thr, and the drawing threshold
        assert _compare(pt, ort, thr) > 0
    assert sum(len(d) for d in pt) == sum(len(d) for d in ort)
    # one metadata record, written by the exporter and read by the runtime
    meta = OnnxRuntimeBackend(cfg, out).meta
    assert isinstance(meta, OnnxMetadata) and meta.input_size == (320, 224)
    assert meta.max_per_img == cfg.model.test_cfg.max_per_img and meta.config == DEMO_CFG
    assert meta.checkpoint == demo_checkpoint
    stored = {p.key: p.value for p in onnx.load(out).metadata_props}
    assert OnnxMetadata.from_metadata_map(stored, out) == meta


def test_ssd512_onnx_matches_pytorch_at_shrunk_input(synthetic_release, tmp_path):
    # SSD-512 (VGG16, 7 levels, the stock head) with the test Resize shrunk to 320x320
    from hda_plugin.utils.config import load_config
    opts = {'test_dataloader.dataset.pipeline.Resize.scale': (320, 320)}
    ckpt = str(tmp_path / 'ssd512.pth')
    random_checkpoint(SSD512_CFG, ckpt, cls_std=0.001, cfg_options=opts)
    cfg = load_config(SSD512_CFG, opts)
    out = str(tmp_path / 'ssd512.onnx')
    assert export_onnx.main([SSD512_CFG, ckpt, out, '--cfg-options',
                             'test_dataloader.dataset.pipeline.Resize.scale=(320,320)']) == 0
    pt, ort, _ = _run_both(cfg, ckpt, out, _frames(synthetic_release, [17])[:2])
    assert _compare(pt, ort, 0.02) > 0


def test_onnx_backend_refuses_foreign_graphs(tmp_path):
    import onnx.helper as oh
    x = oh.make_tensor_value_info('x', onnx.TensorProto.FLOAT, [1])
    g = oh.make_graph([oh.make_node('Identity', ['x'], ['y'])], 'g', [x],
                      [oh.make_tensor_value_info('y', onnx.TensorProto.FLOAT, [1])])
    path = str(tmp_path / 'other.onnx')
    onnx.save(oh.make_model(g), path)
    from hda_plugin.utils.config import load_config
    with pytest.raises(ValueError, match=r"other\.onnx: the graph takes inputs \['x'\]; a graph "
                       r"of tools/deployment/export_onnx.py takes \['images', 'img_shape'\]"):
        OnnxRuntimeBackend(load_config(DEMO_CFG), path)
    # the exporter's inputs, but no metadata record
    ins = [oh.make_tensor_value_info(n, onnx.TensorProto.FLOAT, [1]) for n in
           ('images', 'img_shape')]
    g = oh.make_graph([oh.make_node('Add', ['images', 'img_shape'], ['y'])], 'g', ins,
                      [oh.make_tensor_value_info('y', onnx.TensorProto.FLOAT, [1])])
    onnx.save(oh.make_model(g), path)
    with pytest.raises(ValueError, match='not written by tools/deployment/export_onnx.py'):
        OnnxRuntimeBackend(load_config(DEMO_CFG), path)


def _meta(**kw):
    d = dict(input_size=(320, 224), pad_value_bgr=[1.0, 2.0, 3.0], score_thr=0.02,
             iou_thr=0.45, nms_pre=1000, max_per_img=200, num_classes=1, pos_iou_thr=0.5,
             smallest_anchors=[[20.0, 20.0], [14.1, 28.3]])
    d.update(kw)
    return OnnxMetadata(**d)


def test_metadata_round_trip_and_errors_name_the_file():
    import json
    m = _meta(config='c.py')
    assert OnnxMetadata.from_json(m.to_json(), 'm.onnx') == m
    assert OnnxMetadata.from_metadata_map({ONNX_META_KEY: m.to_json()}, 'm.onnx') == m
    d = json.loads(m.to_json())
    del d['max_per_img']
    with pytest.raises(ValueError, match=r"m\.onnx: .*missing \['max_per_img'\]"):
        OnnxMetadata.from_json(json.dumps(d), 'm.onnx')
    d = dict(json.loads(m.to_json()), anchors_v2=[])
    with pytest.raises(ValueError, match=r"m\.onnx: .*unknown \['anchors_v2'\].*export"):
        OnnxMetadata.from_json(json.dumps(d), 'm.onnx')
    with pytest.raises(ValueError, match=r'm\.onnx: .*not JSON'):
        OnnxMetadata.from_json('{', 'm.onnx')
    with pytest.raises(ValueError, match='m.onnx: no .hda_ssd. metadata'):
        OnnxMetadata.from_metadata_map({}, 'm.onnx')


@pytest.fixture(scope='module')
def demo_onnx(demo_checkpoint, tmp_path_factory):
    out = str(tmp_path_factory.mktemp('demo_onnx') / 'demo.onnx')
    assert export_onnx.main([DEMO_CFG, demo_checkpoint, out]) == 0
    return out


def test_failed_export_leaves_the_earlier_file(demo_onnx, demo_checkpoint, tmp_path,
                                               monkeypatch):
    """Exported, given its metadata and checked under the staged name: a failure (here in
    the checker) leaves the earlier .onnx byte for byte, and no staged file."""
    import shutil
    out = str(tmp_path / 'model.onnx')
    shutil.copy(demo_onnx, out)
    before = open(out, 'rb').read()

    def broken(*a, **k):
        raise onnx.checker.ValidationError('injected checker failure')
    monkeypatch.setattr(onnx.checker, 'check_model', broken)
    with pytest.raises(onnx.checker.ValidationError, match='injected'):
        export_onnx.main([DEMO_CFG, demo_checkpoint, out])
    assert open(out, 'rb').read() == before
    assert sorted(os.listdir(tmp_path)) == ['model.onnx']


def _renamed_config(tmp_path, name='my_renamed_detector.py'):
    """The demo config under another file name (everything inherited)."""
    path = tmp_path / name
    path.write_text(f'_base_ = {DEMO_CFG!r}\n')
    return str(path)


def test_onnx_checked_by_settings_not_config_name(demo_onnx, tmp_path):
    from hda_plugin.utils.config import load_config
    renamed = _renamed_config(tmp_path)
    # a renamed copy of the config it was exported from: accepted
    backend = OnnxRuntimeBackend(load_config(renamed), demo_onnx, config=renamed)
    assert backend.meta.config == DEMO_CFG
    assert backend.meta.norm_std_bgr is not None
    # the same name, another test_cfg (what --cfg-options model.test_cfg... gives): refused
    cfg = load_config(DEMO_CFG, {'model.test_cfg.score_thr': 0.5,
                                 'model.test_cfg.nms.iou_threshold': 0.6})
    with pytest.raises(ValueError, match=rf'{re.escape(demo_onnx)} was exported \(from '
                       rf'{re.escape(DEMO_CFG)}\) with settings that differ from '
                       rf"{re.escape(DEMO_CFG)}'s.*score_thr: graph 0\.02, config 0\.5; "
                       r'iou_thr: graph 0\.45, config 0\.6\. .*export it again'):
        OnnxRuntimeBackend(cfg, demo_onnx, config=DEMO_CFG)
    for opt, field in (({'model.test_cfg.max_per_img': 7}, 'max_per_img: graph 200, config 7'),
                       ({'model.test_cfg.nms_pre': 10}, 'nms_pre: graph 1000, config 10'),
                       ({'model.data_preprocessor.mean': [0, 0, 0]}, 'pad_value_bgr: graph'),
                       ({'model.data_preprocessor.std': [1, 1, 1]}, 'norm_std_bgr: graph')):
        with pytest.raises(ValueError, match=re.escape(field)):
            OnnxRuntimeBackend(load_config(DEMO_CFG, opt), demo_onnx, config=DEMO_CFG)
    # through the tool: --cfg-options model.test_cfg.score_thr is not ignored in silence
    sys.path.insert(0, osp.join(ROOT, 'tools'))
    import cv2
    import infer
    (tmp_path / 'cam17').mkdir()
    cv2.imwrite(str(tmp_path / 'cam17' / 'I00001.png'), np.zeros((48, 64, 3), np.uint8))
    with pytest.raises(ValueError, match='score_thr: graph 0.02, config 0.5'):
        infer.main([DEMO_CFG, demo_onnx, str(tmp_path / 'cam17'), '--out-dir',
                    str(tmp_path / 'o'), '--no-progress',
                    '--backend', 'onnxruntime', '--cfg-options', 'model.test_cfg.score_thr=0.5'])
