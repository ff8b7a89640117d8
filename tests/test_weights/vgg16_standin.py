"""A full-size VGG16 in TF-slim's checkpoint layout, standing in for the ImageNet
``vgg_16.ckpt`` (which cannot be downloaded in tests).

Its weights are He-initialised for each layer's fan-in, conv1_1 scaled for mean-subtracted
0-255 input (std about 60) and fc6/fc7 for the layers fc-reduce makes of them (3x3 over
512 channels, 1x1 over 1024): activations stay O(1) through the network, as they do with
ImageNet weights, where MMDetection's default initialisation of SSDVGG (Kaiming, for
inputs of unit scale) makes them hundreds of times larger on std-1 normalised pixels.
"""
import numpy as np
import torch

from hda_plugin.weights.vgg_weights import VGG16_WIDTHS as WIDTHS  # noqa: E402

REPEATS = (2, 2, 3, 3, 3)


def vgg16_standin_tensors(seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)

    def he(shape, fan_in, scale=1.0):
        w = rng.standard_normal(shape, dtype=np.float32)
        w *= np.float32(scale * np.sqrt(2.0 / fan_in))
        return w

    tensors, cin = {}, 3
    for k, (width, reps) in enumerate(zip(WIDTHS, REPEATS), start=1):
        for j in range(1, reps + 1):
            name = f'vgg_16/conv{k}/conv{k}_{j}'
            tensors[f'{name}/weights'] = he((3, 3, cin, width), 9 * cin,
                                            1 / 60 if k == j == 1 else 1.0)
            tensors[f'{name}/biases'] = np.zeros(width, np.float32)
            cin = width
    tensors['vgg_16/fc6/weights'] = he((7, 7, 512, 4096), 9 * 512)
    tensors['vgg_16/fc6/biases'] = np.zeros(4096, np.float32)
    tensors['vgg_16/fc7/weights'] = he((1, 1, 4096, 4096), 1024)
    tensors['vgg_16/fc7/biases'] = np.zeros(4096, np.float32)
    tensors['vgg_16/fc8/weights'] = he((1, 1, 4096, 1000), 4096, 0.1)
    tensors['vgg_16/fc8/biases'] = np.zeros(1000, np.float32)
    tensors['vgg_16/mean_rgb'] = np.array([123.68, 116.78, 103.94], np.float32)
    tensors['global_step'] = np.array(0, np.int64)
    return tensors


def calibrate_on(tensors: dict, images: torch.Tensor) -> dict:
    """Rescale each conv (and fc6/fc7 through the conv6/conv7 fc-reduce makes of them) so
    that its output has unit standard deviation on ``images`` (LSUV, Mishkin & Matas
    2016): the property of ImageNet weights that matters for the first iterations. Biases
    are zero, so scaling commutes with the conversion."""
    from mmdet.models.backbones import SSDVGG

    from hda_plugin.weights import convert_tfslim_vgg16, ssd_vgg_layers
    model = SSDVGG(depth=16)
    model.eval()                  # (mmcv's VGG.train returns None)
    model.load_state_dict(convert_tfslim_vgg16(tensors, fc_reduce=True).state_dict,
                          strict=False)
    sources = {idx: (f'vgg_16/conv{name[4]}/{name}' if name.startswith('conv') and '_' in name
                     else f'vgg_16/{"fc6" if name == "conv6" else "fc7"}')
               for name, idx in ssd_vgg_layers()}
    out = dict(tensors)
    with torch.no_grad():
        x = images
        for idx, layer in enumerate(model.features):
            if idx in sources:
                std = float(layer(x).std())
                layer.weight /= std
                key = f'{sources[idx]}/weights'
                out[key] = (out[key] / std).astype(np.float32)
            x = layer(x)
    return out
