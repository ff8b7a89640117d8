"""ImageNet VGG16 weights from TF-slim and torchvision -> MMDetection's ``SSDVGG`` backbone.

``SSDVGG`` (mmdet) is mmcv's ``VGG`` ``features`` without the last max pool, followed by
``features.30`` (3x3 stride-1 max pool), ``features.31`` = conv6 (3x3, dilation 6, 1024
outputs) and ``features.33`` = conv7 (1x1, 1024). The ImageNet classifiers have fc6
(7x7 over pool5, 4096 outputs) and fc7 (4096 x 4096) instead; the SSD paper built conv6
and conv7 from them by subsampling ("fc-reduce", as DeepLab did): every 4th output of fc6
and taps 0, 3, 6 of its 7x7 kernel, which the dilation of 6 on the stride-16 map (pool5
no longer halves it) places at the same image offsets (+-96 px) as on the stride-32 map;
every 4th input and output of fc7.

MMDetection's caffe VGG16 (``vgg16_caffe-292e1171.pth``, the stock SSD configs' backbone)
is already in this layout, conv6/conv7 included: it loads with ``init_cfg`` as it is.
"""
import difflib
import os
import os.path as osp
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmcv.cnn import VGG

from ..utils.table import format_table

__all__ = [
    'ConversionError', 'Conversion', 'NORMALISATION', 'VGG16_WIDTHS', 'ssd_vgg_layers', 'reduce_fc',
    'convert_tfslim_vgg16', 'convert_torchvision_vgg16', 'save_backbone_checkpoint'
]

VGG16_WIDTHS = (64, 128, 256, 512, 512)
SSD_FC_WIDTH = 1024
FC_REDUCE = 4           # 4096 -> 1024 channels
FC6_TAPS = slice(0, 7, 3)   # taps 0, 3, 6 of the 7x7 kernel


# The input normalisation each source's weights were trained with, recorded in the converted
# file's meta (PretrainedWeightsHook compares it with the model's data_preprocessor).
NORMALISATION = {
    # TF-slim preprocessing/vgg_preprocessing.py: RGB minus _R/_G/_B_MEAN
    'tf-slim': dict(mean=[123.68, 116.78, 103.94], std=[1.0, 1.0, 1.0], bgr_to_rgb=True,
                    config='configs/ssd512_hda_tfslim-vgg16.py'),
    # torchvision ImageNet: RGB / 255, minus 0.485/0.456/0.406, over 0.229/0.224/0.225
    'torchvision': dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                        bgr_to_rgb=True, config='configs/ssd512_hda_torchvision-vgg16.py'),
    # mmdet's ssd512_coco.py / ssd512_voc0712.py (and the caffe VGG16 they start from)
    'mmdet-ssd': dict(mean=[123.675, 116.28, 103.53], std=[1.0, 1.0, 1.0], bgr_to_rgb=True,
                      config='configs/ssd512_hda.py and its from-coco/from-voc children'),
}


class ConversionError(ValueError):
    """A checkpoint that does not fit the SSD VGG16 backbone, naming the variable."""


@dataclass
class Conversion:
    """A converted backbone state dict and what happened to every tensor."""
    state_dict: 'OrderedDict[str, torch.Tensor]'
    # (target key, source name, action, shape) with action mapped/reduced/initialised
    rows: List[Tuple[str, str, str, tuple]] = field(default_factory=list)
    unused: List[str] = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r[2] == action)

    def table(self) -> str:
        return '\n'.join(format_table(
            ('SSDVGG key', 'action', 'shape', 'source'),
            [(key, action, tuple(shape), src) for key, src, action, shape in self.rows],
            align='llll'))

    def summary(self) -> str:
        n = sum(1 for r in self.rows if r[2] != 'initialised')
        text = (f'{n} tensors written: {self.count("mapped")} mapped, '
                f'{self.count("reduced")} reduced (fc6/fc7 -> conv6/conv7); '
                f'{self.count("initialised")} left to the model\'s initialisation')
        if self.unused:
            shown = ', '.join(self.unused[:8]) + (' ...' if len(self.unused) > 8 else '')
            text += f'; {len(self.unused)} source tensors not used: {shown}'
        return text


def ssd_vgg_layers(depth: int = 16) -> List[Tuple[str, int]]:
    """``(name, index in SSDVGG.features)`` of every conv, TF-slim names, conv6/conv7 last."""
    layers, idx = [], 0
    for stage, repeats in enumerate(VGG.arch_settings[depth], start=1):
        for j in range(1, repeats + 1):
            layers.append((f'conv{stage}_{j}', idx))
            idx += 2                    # conv, ReLU
        idx += 1                        # max pool
    # SSDVGG has no last pool: its 3x3/s1 pool takes that index, then conv6, ReLU, conv7
    pool5 = idx - 1
    return layers + [('conv6', pool5 + 1), ('conv7', pool5 + 3)]


def reduce_fc(fc6_w, fc6_b, fc7_w, fc7_b):
    """SSD's fc-reduce on OIHW tensors: fc6 (F, C, 7, 7) -> (F/4, C, 3, 3); fc7
    (F2, F, 1, 1) -> (F2/4, F/4, 1, 1)."""
    return (fc6_w[::FC_REDUCE, :, FC6_TAPS, FC6_TAPS].contiguous(), fc6_b[::FC_REDUCE].clone(),
            fc7_w[::FC_REDUCE, ::FC_REDUCE].contiguous(), fc7_b[::FC_REDUCE].clone())


class _Builder:
    """Collects converted tensors, checking each shape against the chain of layers."""

    def __init__(self, widths: Optional[Sequence[int]], source: str):
        self.widths = widths
        self.source = source
        self.conv = Conversion(state_dict=OrderedDict())
        self.prev_out = 3
        self.prev_name = 'the RGB input'

    def expected(self, name: str) -> Optional[int]:
        if self.widths is None:
            return None
        if name in ('conv6', 'conv7'):
            return SSD_FC_WIDTH
        return self.widths[int(name[4]) - 1]

    def check(self, var: str, shape: tuple, want: tuple, layout: str, what: str):
        ok = len(shape) == len(want) and all(w is None or s == w for s, w in zip(shape, want))
        if not ok:
            want_s = '(' + ', '.join('*' if w is None else str(w) for w in want) + ')'
            raise ConversionError(
                f'{self.source}: variable {var!r} has shape {tuple(shape)}, expected '
                f'{want_s} ({layout}: {what}). Is this a VGG16 checkpoint? Other depths or '
                'a network with batch norm do not fit the SSD VGG16 backbone.')

    def add(self, name: str, idx: int, weight: torch.Tensor, bias: torch.Tensor, src: str,
            action: str = 'mapped'):
        out = weight.shape[0]
        key = f'features.{idx}'
        self.conv.state_dict[f'{key}.weight'] = weight.float().contiguous()
        self.conv.state_dict[f'{key}.bias'] = bias.float().contiguous()
        self.conv.rows.append((f'{key}.weight', f'{src} weights', action, tuple(weight.shape)))
        self.conv.rows.append((f'{key}.bias', f'{src} biases', action, tuple(bias.shape)))
        self.prev_out, self.prev_name = out, name

    def initialised(self, idx: int, why: str):
        for p in ('weight', 'bias'):
            self.conv.rows.append((f'features.{idx}.{p}', why, 'initialised', ()))


def _tensor(array) -> torch.Tensor:
    """A writable, contiguous copy (checkpoint arrays are read-only views of the file)."""
    return torch.from_numpy(np.array(array, copy=True))


def _check_fc_outputs(source: str, var: str, outputs: int, widths):
    """fc-reduce keeps every 4th output: VGG16's 4096 (any multiple of 4 without widths)."""
    want = SSD_FC_WIDTH * FC_REDUCE if widths is not None else None
    if outputs % FC_REDUCE or (want and outputs != want):
        raise ConversionError(
            f'{source}: variable {var!r} has {outputs} outputs; fc-reduce keeps every '
            f'{FC_REDUCE}th and needs {want or "a multiple of 4"} (VGG16: 4096 -> 1024)')


def _missing(source: str, var: str, names: Sequence[str]) -> ConversionError:
    close = difflib.get_close_matches(var, names, n=3, cutoff=0.5)
    return ConversionError(
        f'{source}: variable {var!r} not found' + (f'; closest: {close}' if close else '')
        + f'. The checkpoint has {len(names)} variables, e.g. {list(names)[:5]}.')


def find_tfslim_scope(names: Sequence[str]) -> List[str]:
    """Scopes holding a TF-slim VGG (``<scope>/conv1/conv1_1/weights``)."""
    pat = re.compile(r'^(.*)/conv1/conv1_1/weights$')
    return sorted({m.group(1) for m in map(pat.match, names) if m})


def convert_tfslim_vgg16(tensors: Dict[str, np.ndarray], scope: Optional[str] = None,
                         fc_reduce: bool = False,
                         widths: Optional[Sequence[int]] = VGG16_WIDTHS,
                         source: str = 'checkpoint') -> Conversion:
    """TF-slim ``<scope>/convK/convK_J/{weights,biases}`` (HWIO) -> SSDVGG keys (OIHW).

    ``scope`` is found when not given: ``vgg_16`` for the ImageNet release, or
    ``ssd_300_vgg``/``ssd_512_vgg`` for an SSD-Tensorflow training checkpoint, whose
    ``conv6``/``conv7`` are then taken as they are. Otherwise ``fc_reduce`` builds them from
    ``fc6``/``fc7``. ``widths`` are the stage widths to require (None: any consistent ones).
    """
    names = list(tensors)
    if scope is None:
        scopes = find_tfslim_scope(names)
        if len(scopes) != 1:
            raise ConversionError(
                f'{source}: ' + ('no TF-slim VGG variables (<scope>/conv1/conv1_1/weights)'
                                 if not scopes else f'several VGG scopes {scopes}')
                + f' among {len(names)} variables, e.g. {names[:5]}. Pass --scope.')
        scope = scopes[0]
    b = _Builder(widths, source)
    used = set()

    def get(var):
        full = f'{scope}/{var}'
        if full not in tensors:
            raise _missing(source, full, names)
        used.add(full)
        return tensors[full]

    def hwio_conv(name, var, k, idx, action='mapped', dilation_note=''):
        w, bias = get(f'{var}/weights'), get(f'{var}/biases')
        cout = b.expected(name)
        b.check(f'{scope}/{var}/weights', w.shape, (k, k, b.prev_out, cout), 'HWIO',
                f'{k}x{k} kernel, {b.prev_out} inputs from {b.prev_name}, '
                f'{cout or "any number of"} outputs{dilation_note}')
        b.check(f'{scope}/{var}/biases', bias.shape, (w.shape[3], ), 'vector',
                f'one bias per output of {name}')
        b.add(name, idx, _tensor(w.transpose(3, 2, 0, 1)), _tensor(bias), f'{scope}/{var}',
              action)

    layers = ssd_vgg_layers(16)
    for name, idx in layers[:-2]:
        hwio_conv(name, f'conv{name[4]}/{name}', 3, idx)
    (_, idx6), (_, idx7) = layers[-2:]
    if f'{scope}/conv6/weights' in tensors:     # SSD-Tensorflow: already reduced
        hwio_conv('conv6', 'conv6', 3, idx6, dilation_note=' (dilation 6)')
        hwio_conv('conv7', 'conv7', 1, idx7)
    elif fc_reduce:
        fc6, fc6_b = get('fc6/weights'), get('fc6/biases')
        b.check(f'{scope}/fc6/weights', fc6.shape, (7, 7, b.prev_out, None), 'HWIO',
                f'7x7 over pool5 with {b.prev_out} channels')
        fc7, fc7_b = get('fc7/weights'), get('fc7/biases')
        b.check(f'{scope}/fc7/weights', fc7.shape, (1, 1, fc6.shape[3], None), 'HWIO',
                f'1x1 over the {fc6.shape[3]} outputs of fc6')
        _check_fc_outputs(source, f'{scope}/fc6/weights', fc6.shape[3], widths)
        _check_fc_outputs(source, f'{scope}/fc7/weights', fc7.shape[3], widths)
        w6, b6, w7, b7 = reduce_fc(_tensor(fc6.transpose(3, 2, 0, 1)), _tensor(fc6_b),
                                   _tensor(fc7.transpose(3, 2, 0, 1)), _tensor(fc7_b))
        b.add('conv6', idx6, w6, b6, f'{scope}/fc6', 'reduced')
        b.add('conv7', idx7, w7, b7, f'{scope}/fc7', 'reduced')
    else:
        b.initialised(idx6, 'conv6: not converted (--fc-reduce builds it from fc6)')
        b.initialised(idx7, 'conv7: not converted (--fc-reduce builds it from fc7)')
    b.conv.unused = [n for n in names if n not in used]
    b.conv.meta = dict(source_format='tf-slim', scope=scope, fc_reduce=fc_reduce,
                       input_normalisation=NORMALISATION['tf-slim'])
    if f'{scope}/mean_rgb' in tensors:
        b.conv.meta['mean_rgb'] = [round(float(v), 4) for v in tensors[f'{scope}/mean_rgb']]
    return b.conv


def convert_torchvision_vgg16(state: Dict[str, torch.Tensor], fc_reduce: bool = False,
                              widths: Optional[Sequence[int]] = VGG16_WIDTHS,
                              source: str = 'checkpoint') -> Conversion:
    """torchvision ``vgg16`` (``features.N``, ``classifier.0``/``.3``) -> SSDVGG keys.

    ``state`` is the state dict as :func:`load_state_dict_file` returns it.

    The convs keep their keys (torchvision and mmcv number ``features`` alike);
    ``fc_reduce`` builds conv6/conv7 from ``classifier.0`` (4096 x 512*7*7) and
    ``classifier.3``.
    """
    names = list(state)
    if any(k.endswith('running_mean') for k in names):
        raise ConversionError(
            f'{source}: has batch-norm statistics ({next(k for k in names if "running" in k)}):'
            ' this is vgg16_bn; the SSD VGG16 backbone has no batch norm. Use vgg16.')
    b = _Builder(widths, source)
    used = set()

    def get(key):
        if key not in state:
            raise _missing(source, key, names)
        used.add(key)
        return state[key]

    layers = ssd_vgg_layers(16)
    for name, idx in layers[:-2]:
        w, bias = get(f'features.{idx}.weight'), get(f'features.{idx}.bias')
        b.check(f'features.{idx}.weight', tuple(w.shape),
                (b.expected(name), b.prev_out, 3, 3), 'OIHW',
                f'{name}: 3x3 kernel, {b.prev_out} inputs from {b.prev_name}')
        b.add(name, idx, w, bias, f'features.{idx} ({name})')
    (_, idx6), (_, idx7) = layers[-2:]
    if fc_reduce:
        c5 = b.prev_out
        fc6, fc6_b = get('classifier.0.weight'), get('classifier.0.bias')
        b.check('classifier.0.weight', tuple(fc6.shape), (None, c5 * 49), 'out x in',
                f'fc6 over pool5 flattened as {c5} x 7 x 7')
        fc7, fc7_b = get('classifier.3.weight'), get('classifier.3.bias')
        b.check('classifier.3.weight', tuple(fc7.shape), (None, fc6.shape[0]), 'out x in',
                f'fc7 over the {fc6.shape[0]} outputs of fc6')
        _check_fc_outputs(source, 'classifier.0.weight', fc6.shape[0], widths)
        _check_fc_outputs(source, 'classifier.3.weight', fc7.shape[0], widths)
        w6, b6, w7, b7 = reduce_fc(fc6.reshape(fc6.shape[0], c5, 7, 7), fc6_b,
                                   fc7[:, :, None, None], fc7_b)
        b.add('conv6', idx6, w6, b6, 'classifier.0 (fc6)', 'reduced')
        b.add('conv7', idx7, w7, b7, 'classifier.3 (fc7)', 'reduced')
    else:
        b.initialised(idx6, 'conv6: not converted (--fc-reduce builds it from fc6)')
        b.initialised(idx7, 'conv7: not converted (--fc-reduce builds it from fc7)')
    b.conv.unused = [n for n in names if n not in used]
    b.conv.meta = dict(source_format='torchvision', fc_reduce=fc_reduce,
                       input_normalisation=NORMALISATION['torchvision'])
    return b.conv


def save_backbone_checkpoint(conv: Conversion, path: str, **meta):
    """Save as ``{'state_dict': ..., 'meta': ...}`` with SSDVGG's own keys
    (``features.N.*``), the layout ``init_cfg=dict(type='Pretrained', checkpoint=path)``
    loads into the backbone."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    torch.save(dict(state_dict=conv.state_dict, meta=dict(conv.meta, **meta)), path)
