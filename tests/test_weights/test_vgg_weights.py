"""TF checkpoints read without TensorFlow, and TF-slim / torchvision VGG16 -> SSDVGG."""
import os.path as osp
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmdet.models.backbones import SSDVGG
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine.config import Config

from hda_plugin.fileio import TFCheckpointError, read_tf_checkpoint
from hda_plugin.safe_pickle import safe_torch_load
from hda_plugin.weights import (
    ConversionError,
    convert_tfslim_vgg16,
    convert_torchvision_vgg16,
    ssd_vgg_layers,
)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FIXTURE = osp.join(ROOT, 'tests', 'fixtures', 'tfslim_vgg16')
# TF-slim endpoint -> index of its conv in SSDVGG.features (the ReLU follows at +1)
ENDPOINTS = dict(conv1_1=0, conv1_2=2, conv2_2=7, conv3_3=14, conv4_3=21, conv5_3=28,
                 ssd_conv6=31, ssd_conv7=33)


def resized_ssd_vgg(state):
    """mmdet's SSDVGG with each conv given the width of ``state`` (the fixture is VGG16 at
    1/16 width); kernel, stride, padding and dilation stay SSDVGG's own."""
    model = SSDVGG(depth=16)
    for _, idx in ssd_vgg_layers():
        old, w = model.features[idx], state[f'features.{idx}.weight']
        model.features[idx] = nn.Conv2d(w.shape[1], w.shape[0], old.kernel_size, old.stride,
                                        old.padding, old.dilation)
    model.load_state_dict(state, strict=True)
    model.eval()                  # (mmcv's VGG.train returns None)
    return model


def activations(model, x):
    acts = {}
    handles = [model.features[i + 1].register_forward_hook(
        lambda m, inp, out, k=k: acts.__setitem__(k, out.detach().clone()))
        for k, i in ENDPOINTS.items()]
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    return {k: v.permute(0, 2, 3, 1).numpy() for k, v in acts.items()}   # NHWC as TF


def preprocess(cfg_name, image_rgb):
    """The config's data_preprocessor on the image as mmcv loads it (BGR, CHW uint8)."""
    cfg = Config.fromfile(osp.join(ROOT, 'configs', cfg_name))
    pre = MODELS.build(cfg.model.data_preprocessor)
    bgr = torch.from_numpy(np.ascontiguousarray(image_rgb[..., ::-1])).permute(2, 0, 1)
    return pre(dict(inputs=[bgr], data_samples=[DetDataSample()]), False)['inputs']


def test_reader_reads_tensorflow_written_checkpoint():
    by_dir = read_tf_checkpoint(FIXTURE)
    by_index = read_tf_checkpoint(osp.join(FIXTURE, 'vgg_16.ckpt.index'))
    by_data = read_tf_checkpoint(osp.join(FIXTURE, 'vgg_16.ckpt.data-00000-of-00001'))
    assert by_dir.prefix == by_index.prefix == by_data.prefix == osp.join(FIXTURE, 'vgg_16.ckpt')
    t = by_dir.tensors
    assert len(t) == 34 and not by_dir.skipped
    assert t['vgg_16/conv1/conv1_1/weights'].shape == (3, 3, 3, 4)      # HWIO
    assert t['vgg_16/fc6/weights'].shape == (7, 7, 32, 16)
    assert t['vgg_16/fc6/weights'].dtype == np.float32
    assert t['global_step'].dtype == np.int64 and t['global_step'].shape == ()
    np.testing.assert_allclose(t['vgg_16/mean_rgb'], [123.68, 116.78, 103.94], rtol=1e-6)


def test_reader_reads_tensorflow_written_v1_checkpoint():
    """The 2016 TF-slim release is a V1 file; the fixture holds the same variables as V1."""
    v2 = read_tf_checkpoint(FIXTURE).tensors
    v1 = read_tf_checkpoint(osp.join(FIXTURE, 'v1', 'vgg_16.ckpt'))
    assert read_tf_checkpoint(osp.join(FIXTURE, 'v1')).prefix == v1.prefix   # directory
    assert list(v1.tensors) == list(v2) and not v1.skipped
    for name, value in v2.items():
        assert v1.tensors[name].dtype == value.dtype, name
        np.testing.assert_array_equal(v1.tensors[name], value)


def test_reader_names_corrupt_and_truncated_files(tmp_path):
    src = tmp_path / 'bad'
    shutil.copytree(FIXTURE, src)
    data = src / 'vgg_16.ckpt.data-00000-of-00001'
    raw = bytearray(data.read_bytes())
    raw[-100] ^= 0xff                     # inside the last variable's bytes
    data.write_bytes(bytes(raw))
    with pytest.raises(TFCheckpointError, match=r"CRC mismatch in variable 'vgg_16/"):
        read_tf_checkpoint(str(src))
    data.write_bytes(bytes(raw[:1000]))
    with pytest.raises(TFCheckpointError, match=r"variable 'vgg_16/.*truncated"):
        read_tf_checkpoint(str(src))
    junk = tmp_path / 'vgg_16.ckpt'
    junk.write_bytes(b'\0' * 64)
    with pytest.raises(TFCheckpointError, match='vgg_16.ckpt: not a TensorFlow checkpoint'):
        read_tf_checkpoint(str(junk))
    (tmp_path / 'empty').mkdir()
    with pytest.raises(TFCheckpointError, match=r'empty: expected one TensorFlow checkpoint.*'
                                                r'found 0'):
        read_tf_checkpoint(str(tmp_path / 'empty'))


def test_converted_fixture_gives_tf_slim_activations():
    """The bar: TF-slim's conv outputs (computed by TensorFlow) from the converted backbone,
    input normalised by configs/ssd512_hda_tfslim-vgg16.py's data_preprocessor."""
    conv = convert_tfslim_vgg16(read_tf_checkpoint(FIXTURE).tensors, fc_reduce=True,
                                widths=None)
    assert conv.count('mapped') == 26 and conv.count('reduced') == 4
    assert sorted(conv.unused) == ['global_step', 'vgg_16/fc8/biases', 'vgg_16/fc8/weights',
                                   'vgg_16/mean_rgb']
    ref = np.load(osp.join(FIXTURE, 'outputs.npz'))
    model = resized_ssd_vgg(conv.state_dict)
    x = preprocess('ssd512_hda_tfslim-vgg16.py', ref['image'])
    np.testing.assert_allclose(x[0].permute(1, 2, 0).numpy(),
                               ref['image'] - np.float32([123.68, 116.78, 103.94]), atol=1e-4)
    got = activations(model, x)
    for name in ENDPOINTS:
        assert got[name].shape == ref[name].shape, name
        err = np.abs(got[name] - ref[name]).max()
        assert err < 1e-4, f'{name}: max abs error {err}'
        assert np.abs(ref[name]).max() > 0.1, name        # not a trivially zero layer
    # the comparison can fail: BGR input (the stock caffe order) is far off
    bgr_x = x.flip(1)
    assert np.abs(activations(model, bgr_x)['conv1_1'] - ref['conv1_1']).max() > 0.1


def test_shapes_that_do_not_fit_name_the_variable():
    tensors = dict(read_tf_checkpoint(FIXTURE).tensors)
    with pytest.raises(ConversionError, match=r"'vgg_16/conv1/conv1_1/weights' has shape "
                                              r'\(3, 3, 3, 4\), expected \(3, 3, 3, 64\)'):
        convert_tfslim_vgg16(tensors)                         # VGG16 widths required
    tensors['vgg_16/conv3/conv3_2/weights'] = np.zeros((3, 3, 8, 16), np.float32)
    with pytest.raises(ConversionError, match=r"'vgg_16/conv3/conv3_2/weights' has shape "
                                              r'\(3, 3, 8, 16\), expected \(3, 3, 16, \*\)'):
        convert_tfslim_vgg16(tensors, widths=None)
    del tensors['vgg_16/conv3/conv3_2/weights']
    with pytest.raises(ConversionError, match="'vgg_16/conv3/conv3_2/weights' not found"):
        convert_tfslim_vgg16(tensors, widths=None)
    plain = dict(read_tf_checkpoint(FIXTURE).tensors)
    conv = convert_tfslim_vgg16(plain, widths=None)          # without --fc-reduce
    assert conv.count('initialised') == 4 and 'features.31.weight' not in conv.state_dict


def test_ssd_tensorflow_checkpoint_keeps_its_conv6_conv7():
    """An SSD-Tensorflow training checkpoint (scope ssd_512_vgg) already holds the dilated
    conv6 and conv7: they are mapped as they are, fc6/fc7 are not needed."""
    rng = np.random.RandomState(0)
    tensors = {k.replace('vgg_16/', 'ssd_512_vgg/'): v
               for k, v in read_tf_checkpoint(FIXTURE).tensors.items()
               if not k.startswith('vgg_16/fc')}
    tensors['ssd_512_vgg/conv6/weights'] = rng.randn(3, 3, 32, 8).astype(np.float32)
    tensors['ssd_512_vgg/conv6/biases'] = rng.randn(8).astype(np.float32)
    tensors['ssd_512_vgg/conv7/weights'] = rng.randn(1, 1, 8, 8).astype(np.float32)
    tensors['ssd_512_vgg/conv7/biases'] = rng.randn(8).astype(np.float32)
    conv = convert_tfslim_vgg16(tensors, widths=None)
    assert conv.meta['scope'] == 'ssd_512_vgg' and conv.count('mapped') == 30
    np.testing.assert_array_equal(conv.state_dict['features.31.weight'].numpy(),
                                  tensors['ssd_512_vgg/conv6/weights'].transpose(3, 2, 0, 1))
    np.testing.assert_array_equal(conv.state_dict['features.33.bias'].numpy(),
                                  tensors['ssd_512_vgg/conv7/biases'])
    resized_ssd_vgg(conv.state_dict)             # loads strictly into SSDVGG's layout


def torchvision_layout(tensors):
    """The fixture's weights as torchvision's vgg16 stores them (features.N OIHW,
    classifier.0 = fc6 over pool5 flattened C x 7 x 7)."""
    state = {}
    for name, idx in ssd_vgg_layers()[:-2]:
        var = f'vgg_16/conv{name[4]}/{name}'
        state[f'features.{idx}.weight'] = torch.from_numpy(
            tensors[f'{var}/weights'].transpose(3, 2, 0, 1).copy())
        state[f'features.{idx}.bias'] = torch.from_numpy(tensors[f'{var}/biases'].copy())
    fc6 = tensors['vgg_16/fc6/weights']
    state['classifier.0.weight'] = torch.from_numpy(
        fc6.transpose(3, 2, 0, 1).reshape(fc6.shape[3], -1).copy())
    state['classifier.0.bias'] = torch.from_numpy(tensors['vgg_16/fc6/biases'].copy())
    state['classifier.3.weight'] = torch.from_numpy(tensors['vgg_16/fc7/weights'][0, 0].T.copy())
    state['classifier.3.bias'] = torch.from_numpy(tensors['vgg_16/fc7/biases'].copy())
    state['classifier.6.weight'] = torch.zeros(10, 16)
    state['classifier.6.bias'] = torch.zeros(10)
    return state


def test_torchvision_layout_converts_to_the_same_backbone():
    tensors = read_tf_checkpoint(FIXTURE).tensors
    tf_conv = convert_tfslim_vgg16(tensors, fc_reduce=True, widths=None)
    tv_conv = convert_torchvision_vgg16(torchvision_layout(tensors), fc_reduce=True,
                                        widths=None)
    assert list(tv_conv.state_dict) == list(tf_conv.state_dict)
    for key, value in tf_conv.state_dict.items():
        torch.testing.assert_close(tv_conv.state_dict[key], value, rtol=0, atol=0)
    assert tv_conv.unused == ['classifier.6.weight', 'classifier.6.bias']
    bn = dict(torchvision_layout(tensors), **{'features.1.running_mean': torch.zeros(4)})
    with pytest.raises(ConversionError, match='vgg16_bn'):
        convert_torchvision_vgg16(bn, widths=None)


def run_tool(*args):
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                          env=dict(__import__('os').environ, PYTHONPATH=ROOT))


def test_converter_cli_table_and_errors(tmp_path):
    out = tmp_path / 'vgg.pth'
    p = run_tool('tools/model_converters/tfslim_vgg16_to_mmdet.py', FIXTURE, str(out))
    assert p.returncode == 1
    assert "variable 'vgg_16/conv1/conv1_1/weights' has shape (3, 3, 3, 4)" in p.stderr
    p = run_tool('tools/model_converters/tfslim_vgg16_to_mmdet.py', FIXTURE, str(out),
                 '--fc-reduce', '--allow-other-widths')
    assert p.returncode == 0, p.stderr
    assert re.search(r'features\.31\.weight +reduced +\(4, 32, 3, 3\)', p.stdout), p.stdout
    assert '26 mapped, 4 reduced' in p.stdout and '4 source tensors not used' in p.stdout
    ckpt = safe_torch_load(out)
    assert ckpt['meta']['input_normalisation']['mean'] == [123.68, 116.78, 103.94]
    assert len(ckpt['state_dict']) == 30
    v1_out = tmp_path / 'vgg_v1.pth'
    p = run_tool('tools/model_converters/tfslim_vgg16_to_mmdet.py',
                 osp.join(FIXTURE, 'v1', 'vgg_16.ckpt'), str(v1_out), '--fc-reduce',
                 '--allow-other-widths')
    assert p.returncode == 0, p.stderr
    v1_state = safe_torch_load(v1_out)['state_dict']
    for key, value in ckpt['state_dict'].items():
        torch.testing.assert_close(v1_state[key], value, rtol=0, atol=0)
    tv = tmp_path / 'tv.pth'
    torch.save(torchvision_layout(read_tf_checkpoint(FIXTURE).tensors), tv)
    p = run_tool('tools/model_converters/torchvision_vgg16_to_mmdet.py', str(tv),
                 str(tmp_path / 'tv_ssd.pth'), '--allow-other-widths')
    assert p.returncode == 0, p.stderr
    assert '26 mapped, 0 reduced' in p.stdout and '4 left to the model' in p.stdout
    assert 'pass --fc-reduce' in p.stdout


def test_test_writer_round_trips_the_tensorflow_fixture(tmp_path):
    """tests/tf_checkpoint_writer.py (used for the full-size stand-in VGG16) writes what the
    reader reads back, for every variable of the TensorFlow-written fixture."""
    from tf_checkpoint_writer import write_tf_checkpoint
    src = read_tf_checkpoint(FIXTURE).tensors
    write_tf_checkpoint(str(tmp_path / 'copy.ckpt'), src)
    back = read_tf_checkpoint(str(tmp_path / 'copy.ckpt')).tensors
    assert list(back) == list(src)
    for name, value in src.items():
        assert back[name].dtype == value.dtype and back[name].shape == value.shape, name
        np.testing.assert_array_equal(back[name], value)
