"""The config's test pipeline on in-memory frames: what both the exporter (the input size)
and every runtime (PyTorch, ONNX Runtime) feed the network."""
import copy
from typing import Sequence, Tuple

import numpy as np

__all__ = ['Preprocessor']

# Transforms of a test pipeline that read annotations: inference has none.
_ANNOTATION_LOADERS = ('LoadAnnotations', 'LoadHDAAnnotations', 'LoadPanopticAnnotations')


def _short_type(t) -> str:
    return str(t).split('.')[-1]


class Preprocessor:
    """The config's test pipeline on in-memory BGR frames (``LoadImageFromNDArray`` in
    place of the file loader, MMDetection's ``inference_detector`` rule): returns the packed
    inputs (``uint8`` CHW tensors) and data samples (``img_shape``, ``scale_factor``, ...).

    Attributes:
        resize (dict | None): the pipeline's ``Resize`` step (its ``scale`` is the network
            input size), None when it has none.
    """

    def __init__(self, cfg):
        from mmdet.utils import get_test_pipeline_cfg
        from mmengine.dataset import Compose
        from mmengine.registry import init_default_scope
        init_default_scope(cfg.get('default_scope', 'mmdet'))
        steps = []
        for t in copy.deepcopy(get_test_pipeline_cfg(cfg)):
            kind = _short_type(t['type'])
            if kind in _ANNOTATION_LOADERS:
                continue
            if kind.startswith('LoadImageFrom') or kind == 'LoadImageFast':
                t = dict(type='mmdet.LoadImageFromNDArray')
            elif kind.startswith('Pack'):
                t = dict(type='mmdet.PackDetInputs',
                         meta_keys=('img_id', 'ori_shape', 'img_shape', 'scale_factor'))
            steps.append(t)
        if not steps or _short_type(steps[0]['type']) != 'LoadImageFromNDArray':
            raise ValueError(f'The config\'s test pipeline {get_test_pipeline_cfg(cfg)} does not '
                             'start with an image loader (LoadImageFromFile).')
        self.resize = next((t for t in steps if _short_type(t['type']) == 'Resize'), None)
        self.pipeline = Compose(steps)

    def __call__(self, images: Sequence[np.ndarray]) -> Tuple[list, list]:
        inputs, samples = [], []
        for i, img in enumerate(images):
            out = self.pipeline(dict(img=img, img_id=i))
            inputs.append(out['inputs'])
            samples.append(out['data_samples'])
        return inputs, samples
