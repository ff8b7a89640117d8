"""tools/model_converters/ssd_to_person.py: a COCO/VOC SSD-512 cut to person vs background."""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmdet.datasets import CocoDataset, VOCDataset
from mmdet.registry import MODELS
from mmengine.config import Config

from hda_plugin.safe_pickle import safe_torch_load
from hda_plugin.weights.ssd_person import PERSON_SOURCES

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def build(cfg_name, num_classes=None):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', cfg_name))
    cfg.model.backbone.init_cfg = None
    if num_classes:
        cfg.model.bbox_head.num_classes = num_classes
    return build_model(cfg)


def build_model(cfg):
    model = MODELS.build(cfg.model)
    model.init_weights()          # (SSDNeck's L2Norm weight is uninitialised memory before)
    model.eval()
    return model


def run_tool(*args):
    return subprocess.run([sys.executable, 'tools/model_converters/ssd_to_person.py', *args],
                          cwd=ROOT, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=ROOT))


def test_person_indices_are_mmdetections():
    for source, dataset in (('coco', CocoDataset), ('voc', VOCDataset)):
        classes = dataset.METAINFO['classes']
        spec = PERSON_SOURCES[source]
        assert len(classes) == spec['num_classes'] and classes[spec['person']] == 'person'


@pytest.fixture(scope='module')
def coco_ssd(tmp_path_factory):
    """A COCO-shaped SSD-512 (80 classes) with random weights, saved as mmdet saves one."""
    torch.manual_seed(0)
    model = build('ssd512_hda.py', num_classes=80)
    with torch.no_grad():
        for p in model.bbox_head.parameters():      # distinct logits per channel
            p.normal_(0, 0.05)
    path = tmp_path_factory.mktemp('coco') / 'ssd512_coco.pth'
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(dataset_meta=dict(classes=CocoDataset.METAINFO['classes']))),
               path)
    return model, str(path)


def test_person_score_is_source_person_vs_background_softmax(coco_ssd, tmp_path):
    src, path = coco_ssd
    out = tmp_path / 'person.pth'
    p = run_tool(path, str(out), '--source', 'coco')
    assert p.returncode == 0, p.stderr
    assert '7 classifiers cut to (person, background)' in p.stdout
    assert 'bbox_head.cls_convs.0.0' in p.stdout and '(324, 512, 3, 3)' in p.stdout
    ckpt = safe_torch_load(out)
    assert ckpt['meta']['dataset_meta']['classes'] == ('person', )
    dst = build('ssd512_hda_from-coco.py')
    dst.load_state_dict(ckpt['state_dict'], strict=True)   # every key fits the 1-class model
    x = torch.randn(1, 3, 384, 384) * 50
    with torch.no_grad():
        cls_s, reg_s = src.bbox_head(src.extract_feat(x))
        cls_d, reg_d = dst.bbox_head(dst.extract_feat(x))
    for level, (cs, cd, rs, rd) in enumerate(zip(cls_s, cls_d, reg_s, reg_d)):
        n, _, h, w = cs.shape
        anchors = cd.shape[1] // 2
        s = cs.view(n, anchors, 81, h, w)           # channel a * 81 + c, background 80
        expected = torch.softmax(torch.stack([s[:, :, 0], s[:, :, 80]], 2), 2)[:, :, 0]
        got = torch.softmax(cd.view(n, anchors, 2, h, w), 2)[:, :, 0]
        torch.testing.assert_close(got, expected, rtol=0, atol=1e-6)
        torch.testing.assert_close(rd, rs, rtol=0, atol=0)       # box regression kept
        # and it is not the 80-class softmax's person score (the comparison can fail)
        full = torch.softmax(s, 2)[:, :, 0]
        assert (full - expected).abs().max() > 1e-3, level


def test_voc_model_cut_to_person_loads_into_the_from_voc_config(tmp_path):
    """VOC's person is class 14 of 20; configs/ssd512_hda_from-voc.py keeps VOC's anchors."""
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'ssd512_hda_from-voc.py'))
    assert cfg.model.bbox_head.anchor_generator.basesize_ratio_range == (0.15, 0.9)
    cfg.model.bbox_head.num_classes = 20
    torch.manual_seed(1)
    src = build_model(cfg)
    with torch.no_grad():
        for p in src.bbox_head.parameters():
            p.normal_(0, 0.05)
    path = tmp_path / 'ssd512_voc.pth'
    torch.save(dict(state_dict=src.state_dict(),
                    meta=dict(dataset_meta=dict(classes=VOCDataset.METAINFO['classes']))), path)
    p = run_tool(str(path), str(tmp_path / 'person.pth'), '--source', 'voc')
    assert p.returncode == 0, p.stderr
    assert 'from VOC class 14 and background channel 20' in p.stdout
    dst = build('ssd512_hda_from-voc.py')
    dst.load_state_dict(safe_torch_load(str(tmp_path / 'person.pth'))['state_dict'],
                        strict=True)
    x = torch.randn(1, 3, 384, 384) * 50
    with torch.no_grad():
        cs = src.bbox_head(src.extract_feat(x))[0][0]
        cd = dst.bbox_head(dst.extract_feat(x))[0][0]
    n, _, h, w = cs.shape
    s = cs.view(n, -1, 21, h, w)
    expected = torch.softmax(torch.stack([s[:, :, 14], s[:, :, 20]], 2), 2)[:, :, 0]
    got = torch.softmax(cd.view(n, -1, 2, h, w), 2)[:, :, 0]
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-6)


def test_wrong_source_or_classes_named(coco_ssd, tmp_path):
    _, path = coco_ssd
    p = run_tool(path, str(tmp_path / 'x.pth'), '--source', 'voc')
    assert p.returncode == 1
    assert 'dataset_meta lists 80 classes' in p.stderr
    ckpt = safe_torch_load(path)
    bare = tmp_path / 'bare.pth'
    torch.save(ckpt['state_dict'], bare)          # no meta: the channel count must tell
    p = run_tool(str(bare), str(tmp_path / 'x.pth'), '--source', 'voc')
    assert p.returncode == 1
    assert ('bbox_head.cls_convs.0.0.weight has 324 output channels, not a multiple of 21'
            in p.stderr) and 'it fits --source coco' in p.stderr
