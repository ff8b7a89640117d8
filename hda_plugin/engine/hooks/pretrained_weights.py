"""``PretrainedWeightsHook``: were the pretrained weights really loaded?

MMEngine loads ``load_from`` and ``init_cfg=dict(type='Pretrained')`` with
``strict=False``: keys that do not match are listed in a warning and training goes on from
random weights. A wrong prefix, a TF or torchvision file given as it is, or a backbone file
given as ``load_from`` all end that way, and SSD-512 on a random VGG diverges or learns
nothing. This hook compares the model's weights, after loading, with the file's tensors.
"""
import os.path as osp
import re
from collections import Counter
from typing import Dict, List, Optional, Tuple

import torch
from mmdet.registry import HOOKS

from ...weights.checkpoint_file import load_state_dict_file
from ...weights.report import pretrained_init
from .base import DiagnosticHook, unwrap_model

__all__ = ['PretrainedWeightsHook', 'match_weights', 'key_hint', 'normalisation_mismatch']


def normalisation_mismatch(meta: dict, preprocessor) -> Optional[Tuple[str, str]]:
    """``(severity, message)`` when the file's recorded input normalisation (written by the
    hda-ssd converters as ``meta['input_normalisation']``) differs from the model's
    ``data_preprocessor``; None when it matches or is not recorded."""
    want = meta.get('input_normalisation')
    if not want or preprocessor is None:
        return None
    mean = getattr(preprocessor, 'mean', None)
    std = getattr(preprocessor, 'std', None)
    have = dict(
        mean=[round(float(v), 3) for v in mean.flatten()] if mean is not None else [0] * 3,
        std=[round(float(v), 3) for v in std.flatten()] if std is not None else [1] * 3,
        bgr_to_rgb=bool(getattr(preprocessor, '_channel_conversion', False)))
    text = (f"the weights expect {'RGB' if want['bgr_to_rgb'] else 'BGR'} input, mean "
            f"{want['mean']}, std {want['std']}; data_preprocessor gives "
            f"{'RGB' if have['bgr_to_rgb'] else 'BGR'}, mean {have['mean']}, std "
            f"{have['std']}. Use {want.get('config', 'the matching config')}")
    if have['bgr_to_rgb'] != want['bgr_to_rgb'] or any(
            abs(a / b - 1) > 0.01 for a, b in zip(have['std'], want['std'])) or any(
            abs(a - b) > 2.0 for a, b in zip(have['mean'], want['mean'])):
        return 'error', 'input normalisation does not match the weights: ' + text
    if any(abs(a - b) > 1e-3 for a, b in zip(have['mean'], want['mean'])):
        return 'warning', 'input means differ slightly from the weights\' (under 2 grey ' \
                          'levels): ' + text
    return None


def match_weights(module: torch.nn.Module, tensors: Dict[str, torch.Tensor]) -> dict:
    """Which parameters of ``module`` hold a value found in ``tensors``.

    Matching is by value (same shape, equal elements), not by name, so it finds what was
    actually loaded whatever the key mapping was, and it notices weights that were loaded
    and then overwritten by a later initialisation.
    """
    by_shape: Dict[tuple, List[torch.Tensor]] = {}
    for t in tensors.values():
        by_shape.setdefault(tuple(t.shape), []).append(t)
    matched, unmatched = [], []
    n_matched = n_total = 0
    for name, p in module.named_parameters():
        if p.numel() == 0:
            continue
        value = p.detach().cpu()
        hit = any(torch.equal(value, t.to(value.dtype))
                  for t in by_shape.get(tuple(p.shape), []))
        n_total += p.numel()
        if hit:
            matched.append(name)
            n_matched += p.numel()
        else:
            unmatched.append(name)
    return dict(matched=matched, unmatched=unmatched, n_matched=n_matched, n_total=n_total,
                share=n_matched / max(n_total, 1))


def key_hint(file_keys: List[str], model_keys: List[str], kind: str) -> str:
    """Why names do not line up, and the likely fix."""
    file_set, model_set = set(file_keys), set(model_keys)
    hints = []
    if any('/' in k for k in file_keys):
        hints.append('the file has TensorFlow variable names (e.g. '
                     f'{next(k for k in file_keys if "/" in k)!r}): convert it with '
                     'tools/model_converters/tfslim_vgg16_to_mmdet.py')
    extra = Counter(f[:-len(m)] for f in file_keys for m in model_set
                    if f != m and f.endswith(m) and f[:-len(m)].endswith('.'))
    missing = Counter(m[:-len(f)] for m in model_keys for f in file_set
                      if m.endswith(f) and m != f and m[:-len(f)].endswith('.'))
    if extra:
        prefix, n = extra.most_common(1)[0]
        fix = (f"set prefix='{prefix}' in the Pretrained init_cfg" if kind == 'init_cfg'
               else 'save the file without it')
        hints.append(f"{n} file keys carry the extra prefix '{prefix}' (e.g. "
                     f"'{prefix}{model_keys[0]}'): {fix}")
    if missing:
        prefix, n = missing.most_common(1)[0]
        fix = (f"this is a {prefix.rstrip('.')} checkpoint: give it to the "
               f"{prefix.rstrip('.')}'s init_cfg=dict(type='Pretrained', checkpoint=...) "
               'instead of load_from' if kind == 'load_from'
               else f"the file lacks the prefix '{prefix}'")
        hints.append(f"{n} file keys lack the prefix '{prefix}' the model uses: {fix}")
    if 'classifier.0.weight' in file_set and 'features.31.weight' not in file_set:
        hints.append('it looks like torchvision VGG16 (classifier.0 = fc6): convert it with '
                     'tools/model_converters/torchvision_vgg16_to_mmdet.py --fc-reduce so that '
                     'conv6/conv7 (features.31/33) are built from fc6/fc7')
    common = model_set & file_set
    if common and not hints:
        hints.append(f'{len(common)} keys have the same names but other shapes or values '
                     '(e.g. a VGG of other widths, or weights overwritten after loading)')
    return '; '.join(hints) or (
        f'no name or value in common (file keys e.g. {file_keys[:3]}, model keys e.g. '
        f'{model_keys[:3]})')



@HOOKS.register_module()
class PretrainedWeightsHook(DiagnosticHook):
    """Fails when pretrained weights were not really loaded into the backbone.

    Before training it takes the file the backbone's weights should come from:
    ``load_from`` when set (not when resuming), else the backbone's
    ``init_cfg=dict(type='Pretrained', checkpoint=...)``. It counts the backbone
    parameters (by element) whose value, after MMEngine's loading and initialisation, equals
    a tensor of that file. Below ``min_share`` it is an error naming the file, the share,
    and the likely cause (key prefix, TF or torchvision names, a backbone file given as
    ``load_from``). Above it, unmatched backbone layers are a warning (e.g. torchvision
    VGG16 without fc-reduce leaves conv6/conv7 random). Files written by hda-ssd's
    converters record the input normalisation their weights expect; a different
    ``data_preprocessor`` (BGR for RGB, std 1 for torchvision's) is an error too. Before
    testing, the whole model is compared with the checkpoint under test in the same way.

    Files that are not local (``open-mmlab://``, URLs) are not checked (no downloads).

    Args:
        min_share (float): smallest share of backbone elements that must come from the
            file (training) or of model elements (testing).
        enabled, stop_on_error: see :class:`DiagnosticHook`.
    """
    priority = 'VERY_HIGH'

    def __init__(self, min_share: float = 0.5, **kwargs):
        super().__init__(**kwargs)
        self.min_share = min_share
        self.result: Optional[dict] = None

    def source(self, runner):
        """``(kind, path)`` the backbone should be loaded from, or None."""
        if getattr(runner, '_resume', False):
            return None
        if getattr(runner, '_load_from', None):
            return 'load_from', runner._load_from
        backbone = getattr(unwrap_model(runner.model), 'backbone', None)
        init = getattr(backbone, 'init_cfg', None)
        if init is None:
            init = runner.cfg.get('model', {}).get('backbone', {}).get('init_cfg')
        pre = pretrained_init(init)
        return ('init_cfg', pre['checkpoint']) if pre else None

    def before_train(self, runner) -> None:
        if not self.enabled:
            return
        src = self.source(runner)
        backbone = getattr(unwrap_model(runner.model), 'backbone', None)
        if src is None or backbone is None:
            runner.logger.info(f'[{self.check_name}] no pretrained weights configured for '
                               'the backbone; nothing to check')
            return
        kind, path = src
        # load_from holds whole-detector keys (backbone.features.0.weight), init_cfg the
        # backbone's own (features.0.weight)
        self.check(runner, backbone, 'backbone', kind, path,
                   key_prefix='backbone.' if kind == 'load_from' else '')

    def before_test(self, runner) -> None:
        if not self.enabled or not getattr(runner, '_load_from', None):
            return
        self.check(runner, unwrap_model(runner.model), 'model', 'load_from',
                   runner._load_from)

    def check(self, runner, module, what: str, kind: str, path: str, key_prefix: str = ''):
        path = str(path)
        if re.match(r'^[a-z][a-z0-9+.-]*://', path) or not osp.isfile(path):
            runner.logger.warning(f'[{self.check_name}] {kind}={path} is not a local file; '
                                  'cannot check that it was loaded')
            return
        tensors, meta = load_state_dict_file(path)
        res = self.result = match_weights(module, tensors)
        groups = sorted({re.sub(r'\.(weight|bias)$', '', n) for n in res['unmatched']},
                        key=lambda g: [(0, int(t), '') if t.isdigit() else (1, 0, t)
                                       for t in g.split('.')])
        summary = (f'{what} parameters loaded from {kind}={path}: {res["share"]:.1%} of '
                   f'{res["n_total"] / 1e6:.1f} M elements ({len(res["matched"])} of '
                   f'{len(res["matched"]) + len(res["unmatched"])} tensors)')
        if res['share'] < self.min_share:
            model_keys = [key_prefix + n for n, _ in module.named_parameters()]
            self.report(
                runner, 'error',
                f'pretrained weights were NOT loaded: {summary}. MMEngine loads with '
                'strict=False, so the rest keeps its random initialisation and training '
                f'would start from it. Likely cause: {key_hint(list(tensors), model_keys, kind)}.'
                f' Unmatched {what} layers: {", ".join(groups[:6])}'
                + (' ...' if len(groups) > 6 else ''))
        elif groups:
            self.report(runner, 'warning',
                        f'{summary}; not from the file: {", ".join(groups[:8])}'
                        + (' ...' if len(groups) > 8 else '')
                        + ('. conv6/conv7 (features.31/33) are random: build them with '
                           '--fc-reduce' if what == 'backbone' and any(
                               g in ('features.31', 'features.33') for g in groups) else ''))
        else:
            runner.logger.info(f'[{self.check_name}] {summary}')
        norm = normalisation_mismatch(
            meta, getattr(unwrap_model(runner.model), 'data_preprocessor', None))
        if norm:
            self.report(runner, norm[0], f'{kind}={path}: {norm[1]}')
