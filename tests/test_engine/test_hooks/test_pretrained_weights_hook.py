"""PretrainedWeightsHook: pretrained weights that were not really loaded stop training."""
import os.path as osp
import subprocess
import sys
from types import SimpleNamespace

import pytest
import torch
from conftest import ROOT
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.logging import MMLogger

from hda_plugin.engine.hooks import PretrainedWeightsHook, TrainingDiagnosisError
from hda_plugin.weights.vgg_weights import NORMALISATION


@pytest.fixture(scope='module')
def vgg_state():
    """SSD-512's backbone weights, as a stand-in pretrained file's content."""
    torch.manual_seed(1)
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'ssd512_hda.py'))
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    model.init_weights()
    return {k: v.clone() for k, v in model.backbone.state_dict().items()}


def runner_for(cfg_name, checkpoint=None, load_from=None):
    """A built model after MMEngine's initialisation, in the shape the hook reads."""
    cfg = Config.fromfile(osp.join(ROOT, 'configs', cfg_name))
    cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=checkpoint) \
        if checkpoint else None
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    if load_from:
        sd = torch.load(load_from, weights_only=False)
        model.load_state_dict(sd.get('state_dict', sd), strict=False)   # as MMEngine does
    return SimpleNamespace(model=model, cfg=cfg, _resume=False, _load_from=load_from,
                           logger=MMLogger.get_instance('hook_test'))


def test_caffe_vgg16_layout_passes(vgg_state, tmp_path):
    """MMDetection's caffe VGG16 holds SSDVGG's own keys (conv6/conv7 included) and was
    saved before torch's zip format (it cannot be memory-mapped): init_cfg loads it whole."""
    path = tmp_path / 'vgg16_caffe.pth'
    torch.save(dict(state_dict=vgg_state), path, _use_new_zipfile_serialization=False)
    hook = PretrainedWeightsHook()
    hook.before_train(runner_for('ssd512_hda.py', str(path)))
    assert hook.result['share'] == 1.0 and not hook.findings


def test_wrong_prefix_stops_training_with_the_fix(vgg_state, tmp_path):
    """The bar: keys saved with the detector's 'backbone.' prefix load nothing (MMEngine
    only warns); the hook stops and names the prefix."""
    path = tmp_path / 'prefixed.pth'
    torch.save({f'backbone.{k}': v for k, v in vgg_state.items()}, path)
    hook = PretrainedWeightsHook()
    with pytest.raises(TrainingDiagnosisError) as e:
        hook.before_train(runner_for('ssd512_hda.py', str(path)))
    msg = str(e.value)
    assert 'pretrained weights were NOT loaded' in msg and '0.0% of 20.5 M' in msg
    assert "carry the extra prefix 'backbone.'" in msg
    assert "set prefix='backbone.' in the Pretrained init_cfg" in msg
    assert hook.result['share'] < 0.001


def test_backbone_file_as_load_from_and_tf_names(vgg_state, tmp_path):
    path = tmp_path / 'vgg.pth'
    torch.save(dict(state_dict=vgg_state), path)
    hook = PretrainedWeightsHook()
    with pytest.raises(TrainingDiagnosisError, match="lack the prefix 'backbone.'.*give it to "
                                                     "the backbone's init_cfg"):
        hook.before_train(runner_for('ssd512_hda.py', load_from=str(path)))
    tf_names = tmp_path / 'tf.pth'
    torch.save({f'vgg_16/conv1/conv1_{i}/weights': torch.zeros(3) for i in (1, 2)}, tf_names)
    with pytest.raises(TrainingDiagnosisError, match='tfslim_vgg16_to_mmdet.py'):
        PretrainedWeightsHook().before_train(runner_for('ssd512_hda.py', str(tf_names)))


def test_torchvision_without_fc_reduce_warns_about_conv6_conv7(vgg_state, tmp_path):
    tv = {k: v for k, v in vgg_state.items() if not k.startswith(('features.31',
                                                                  'features.33'))}
    tv['classifier.0.weight'] = torch.zeros(8, 4)
    path = tmp_path / 'tv.pth'
    torch.save(tv, path)
    hook = PretrainedWeightsHook()
    hook.before_train(runner_for('ssd512_hda.py', str(path)))
    (finding, ) = hook.findings
    assert finding.severity == 'warning' and '71.8%' in finding.message
    assert 'features.31, features.33' in finding.message and '--fc-reduce' in finding.message


def test_normalisation_recorded_by_the_converter_is_checked(vgg_state, tmp_path):
    path = tmp_path / 'tv_ssd.pth'
    torch.save(dict(state_dict=vgg_state,
                    meta=dict(input_normalisation=NORMALISATION['torchvision'])), path)
    hook = PretrainedWeightsHook(stop_on_error=False)
    hook.before_train(runner_for('ssd512_hda.py', str(path)))   # std 1: wrong config
    (finding, ) = hook.findings
    assert finding.severity == 'error' and 'does not match the weights' in finding.message
    assert 'configs/ssd512_hda_torchvision-vgg16.py' in finding.message
    hook = PretrainedWeightsHook()
    hook.before_train(runner_for('ssd512_hda_torchvision-vgg16.py', str(path)))
    assert not hook.findings
    torch.save(dict(state_dict=vgg_state,
                    meta=dict(input_normalisation=NORMALISATION['tf-slim'])), path)
    hook = PretrainedWeightsHook()
    hook.before_train(runner_for('ssd512_hda.py', str(path)))   # means 0.4 apart
    assert [f.severity for f in hook.findings] == ['warning']


def test_train_tool_stops_on_wrong_prefix(vgg_state, synthetic_release, tmp_path):
    """Through tools/train.py: the run ends before iteration 1 with the hook's message."""
    path = tmp_path / 'prefixed.pth'
    torch.save({f'backbone.{k}': v for k, v in vgg_state.items()}, path)
    root = synthetic_release
    p = subprocess.run(
        [sys.executable, 'tools/train.py', 'configs/ssd512_hda.py', '--work-dir',
         str(tmp_path / 'work'), '--cfg-options', f'model.backbone.init_cfg.checkpoint={path}',
         f'train_dataloader.dataset.dataset.data_root={root}',
         'train_dataloader.dataset.dataset.cameras=[17]', 'train_dataloader.num_workers=0',
         'train_dataloader.persistent_workers=False', f'val_dataloader.dataset.data_root={root}',
         'val_dataloader.dataset.cameras=[19]', 'val_dataloader.num_workers=0',
         'val_dataloader.persistent_workers=False'],
        cwd=ROOT, capture_output=True, text=True, env=__import__('conftest').run_env())
    out = p.stdout + p.stderr
    assert p.returncode != 0
    assert 'TrainingDiagnosisError: [PretrainedWeightsHook] pretrained weights were NOT loaded' \
        in out
    assert "prefix='backbone.'" in out and 'Epoch(train)' not in out
