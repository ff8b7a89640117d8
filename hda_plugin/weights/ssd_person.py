"""A COCO- or VOC-trained MMDetection SSD checkpoint cut to a 1-class person detector.

MMDetection's ``SSDHead`` scores with a softmax over ``num_classes + 1`` channels per
anchor, background last; level ``i``'s classifier ``bbox_head.cls_convs.i.<last>`` has
``anchors_i * (num_classes + 1)`` outputs, channel ``a * (num_classes + 1) + c`` for anchor
``a`` and class ``c`` (the head reshapes ``(N, A*C1, H, W)`` to ``(N, H*W*A, C1)``).
Keeping, for every anchor, the person channel and the background channel gives a
``num_classes=1`` head whose softmax is the source's person-vs-background softmax:
``exp(p) / (exp(p) + exp(bg))``. Backbone, neck and box regression are kept as they are.
"""
import re
from collections import OrderedDict
from typing import Dict, Tuple

import torch

__all__ = ['PERSON_SOURCES', 'person_head_from_detector']

# MMDetection's class order: CocoDataset (80 classes), VOCDataset (20 classes)
PERSON_SOURCES = {
    'coco': dict(num_classes=80, person=0),
    'voc': dict(num_classes=20, person=14),
}


def _classifier_keys(state: Dict[str, torch.Tensor]) -> Dict[int, str]:
    """Level -> name of the last layer of ``bbox_head.cls_convs.<level>``."""
    last: Dict[int, Tuple[tuple, str]] = {}
    pat = re.compile(r'^bbox_head\.cls_convs\.(\d+)\.(.+)\.weight$')
    for key in state:
        m = pat.match(key)
        if m:
            level = int(m.group(1))
            order = tuple(int(x) if x.isdigit() else x for x in m.group(2).split('.'))
            if level not in last or order > last[level][0]:
                last[level] = (order, key[:-len('.weight')])
    return {level: name for level, (_, name) in sorted(last.items())}


def person_head_from_detector(state: Dict[str, torch.Tensor], source: str,
                              path: str = 'checkpoint') -> Tuple[OrderedDict, list]:
    """The state dict with every level's classifier cut to (person, background).

    ``state`` is the detector's state dict as :func:`load_state_dict_file` returns it.
    Returns ``(state_dict, rows)``; rows are ``(key, old shape, new shape, anchors)``.
    Raises ``ValueError`` naming the key when a classifier does not have
    ``anchors * (num_classes + 1)`` outputs for ``source``.
    """
    if source not in PERSON_SOURCES:
        raise ValueError(f'--source {source!r}: expected one of {sorted(PERSON_SOURCES)}')
    spec = PERSON_SOURCES[source]
    c1, person = spec['num_classes'] + 1, spec['person']
    state = OrderedDict(state)
    levels = _classifier_keys(state)
    if not levels:
        raise ValueError(
            f'{path}: no bbox_head.cls_convs.<level>.*.weight keys; this is not an '
            f'MMDetection SSD detector checkpoint (keys e.g. {list(state)[:4]})')
    rows = []
    for level, name in levels.items():
        weight, bias = state[f'{name}.weight'], state.get(f'{name}.bias')
        out = weight.shape[0]
        if out % c1:
            other = [s for s, v in PERSON_SOURCES.items()
                     if s != source and out % (v['num_classes'] + 1) == 0]
            raise ValueError(
                f'{path}: {name}.weight has {out} output channels, not a multiple of '
                f'{c1} ({spec["num_classes"]} {source.upper()} classes + background)'
                + (f'; it fits --source {other[0]}' if other else
                   '; the source model has another number of classes'))
        anchors = out // c1
        keep = torch.tensor([a * c1 + c for a in range(anchors) for c in (person, c1 - 1)])
        state[f'{name}.weight'] = weight[keep].clone()
        if bias is not None:
            state[f'{name}.bias'] = bias[keep].clone()
        rows.append((name, tuple(weight.shape), tuple(state[f'{name}.weight'].shape), anchors))
    return state, rows
