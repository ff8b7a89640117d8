"""The detector behind ``tools/infer.py``: the config's own test preprocessing, then the
model in PyTorch (eager, as MMDetection's ``model.predict`` runs it) or the exported ONNX
graph in ONNX Runtime.

Both backends take the same preprocessed images
(:class:`hda_plugin.deployment.Preprocessor`: the config's test pipeline with
``LoadImageFromNDArray`` in place of the file loader) and return, per image, boxes
``(N, 4)`` x1 y1 x2 y2 in that image's pixels, scores and labels as numpy arrays. Each
call reports its time split into ``model`` (network) and ``nms`` (anchor decoding, score
filtering and NMS).
"""
import copy
import time
from typing import Dict, List, Optional, Tuple

import numpy as np

from ..deployment.onnx_metadata import OnnxMetadata, config_settings
from ..deployment.preprocess import Preprocessor
from ..structures import Detections

__all__ = ['PyTorchBackend', 'OnnxRuntimeBackend', 'build_backend']


def _sync(device: str):
    if device.startswith('cuda'):
        import torch
        torch.cuda.synchronize()


class PyTorchBackend:
    """A checkpoint in PyTorch eager mode: ``extract_feat`` and the head's forward
    (``model``), then ``bbox_head.predict_by_feat(rescale=True)`` (``nms``), exactly the
    calls of MMDetection's ``SingleStageDetector.predict``.

    The checkpoint is read through MMEngine's loader, which hda_plugin.compat routes to the
    allowlisting loader (no file runs code).
    """
    name = 'pytorch'

    def __init__(self, cfg, checkpoint: str, device: str = 'cpu'):
        import torch
        from mmdet.registry import MODELS
        from mmengine.model import revert_sync_batchnorm
        from mmengine.registry import init_default_scope
        from mmengine.runner import load_checkpoint
        init_default_scope(cfg.get('default_scope', 'mmdet'))
        cfg = copy.deepcopy(cfg)
        if cfg.model.get('backbone', {}).get('init_cfg') is not None:
            cfg.model.backbone.init_cfg = None  # the checkpoint holds every weight
        model = revert_sync_batchnorm(MODELS.build(cfg.model))
        load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
        self.model = model.to(device).eval()
        self.device = device
        self.cfg = cfg
        self.test_cfg = model.bbox_head.test_cfg
        self.preprocess = Preprocessor(cfg)
        self._torch = torch

    def __call__(self, inputs: list, samples: list, times: Dict[str, float]) -> List[Detections]:
        torch, model = self._torch, self.model
        with torch.no_grad():
            _sync(self.device)
            t0 = time.perf_counter()
            data = model.data_preprocessor(dict(inputs=inputs, data_samples=samples), False)
            feats = model.extract_feat(data['inputs'])
            outs = model.bbox_head(feats)
            _sync(self.device)
            t1 = time.perf_counter()
            metas = [s.metainfo for s in data['data_samples']]
            results = model.bbox_head.predict_by_feat(*outs, batch_img_metas=metas,
                                                      rescale=True)
            dets = [Detections.from_instances(r) for r in results]
            t2 = time.perf_counter()
        times['model'] += t1 - t0
        times['nms'] += t2 - t1
        return dets

    def smallest_anchors(self) -> np.ndarray:
        """``(k, 2)`` widths and heights of the finest level's anchors, network pixels."""
        a = self.model.bbox_head.prior_generator.gen_base_anchors()[0].numpy()
        return np.stack([a[:, 2] - a[:, 0], a[:, 3] - a[:, 1]], 1)

    def pos_iou_thr(self) -> float:
        return float(self.cfg.model.get('train_cfg', {}).get('assigner', {}).get(
            'pos_iou_thr', 0.5))

    def nms_iou_thr(self) -> float:
        return float(self.test_cfg['nms']['iou_threshold'])

    def max_per_img(self) -> int:
        """``test_cfg.max_per_img``: the most boxes one image (or tiled frame) keeps."""
        return int(self.test_cfg.get('max_per_img', -1))

    def input_size(self) -> Tuple[int, int]:
        """``(w, h)`` of the network input: the test ``Resize`` scale."""
        if self.preprocess.resize is None:
            raise ValueError('The config\'s test pipeline has no Resize: --tile auto needs '
                             'the network input size; give --tile WxH or --tile off.')
        return tuple(int(v) for v in self.preprocess.resize['scale'])


class OnnxRuntimeBackend:
    """A graph written by ``tools/deployment/export_onnx.py`` in ONNX Runtime.

    The graph takes ``images`` ``(N, 3, H, W)`` float32 BGR pixels at the exported input
    size and ``img_shape`` ``(N, 2)`` (the unpadded height and width of each image) and
    returns the detections after NMS with their batch index. Images are padded to the input
    size with the normalisation mean (0 after normalisation, as MMDetection's zero padding of
    the normalised batch), boxes divided by the resize's scale factor here.
    """
    name = 'onnxruntime'

    #: The graph's inputs, as ``tools/deployment/export_onnx.py`` names them.
    INPUTS = ('images', 'img_shape')

    def __init__(self, cfg, onnx_file: str, device: str = 'cpu', threads: int = 0,
                 config: Optional[str] = None):
        from ..utils.extras import require
        ort = require('onnxruntime', 'deploy', 'ONNX Runtime inference (--backend onnxruntime)')
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        providers = ['CPUExecutionProvider']
        if device.startswith('cuda'):
            if 'CUDAExecutionProvider' not in ort.get_available_providers():
                raise RuntimeError(
                    '--device cuda with --backend onnxruntime needs onnxruntime-gpu (this '
                    f'build offers {ort.get_available_providers()}).')
            providers.insert(0, 'CUDAExecutionProvider')
        self.session = ort.InferenceSession(onnx_file, opts, providers=providers)
        names = tuple(i.name for i in self.session.get_inputs())
        if sorted(names) != sorted(self.INPUTS):
            raise ValueError(
                f'{onnx_file}: the graph takes inputs {list(names)}; a graph of '
                f'tools/deployment/export_onnx.py takes {list(self.INPUTS)} (images (N, 3, H, '
                'W), img_shape (N, 2)). Export the checkpoint with it.')
        self.meta = OnnxMetadata.from_metadata_map(
            self.session.get_modelmeta().custom_metadata_map, onnx_file)
        self._check_config(onnx_file, cfg, config or getattr(cfg, 'filename', None))
        self.input_w, self.input_h = self.meta.input_size
        self.pad_value = np.array(self.meta.pad_value_bgr, np.float32).reshape(1, 3, 1, 1)
        self.device, self.cfg = device, cfg
        self.preprocess = Preprocessor(cfg)

    def _check_config(self, onnx_file: str, cfg, config: Optional[str]) -> None:
        """The graph was exported with this config's settings, those it bakes in: the input
        size (a graph exported at 640x448 fed 320x224 frames padded into it scored MR-2
        61.3 % instead of 49.8 % without a word), ``test_cfg``'s ``score_thr``, NMS
        ``iou_threshold``, ``nms_pre`` and ``max_per_img``, and the normalisation (mean,
        the pad value, and std). A ``--cfg-options model.test_cfg...`` would otherwise be
        ignored in silence. The config's file name is not compared: a renamed copy of the
        same config is the same config."""
        from ..deployment.onnx_export import input_size_of  # imports torch
        mine = tuple(int(v) for v in input_size_of(cfg))
        what = config or 'the config given'
        where = f' (from {self.meta.config})' if self.meta.config else ''
        fix = ('Run it with the config (and --cfg-options) it was exported from, or export it '
               'again from this one (tools/deployment/export_onnx.py CONFIG CKPT OUT.onnx, '
               'with the same --cfg-options).')
        if tuple(self.meta.input_size) != mine:
            raise ValueError(
                f'{onnx_file} was exported for a {self.meta.input_size[0]}x'
                f'{self.meta.input_size[1]} input{where}, but {what} feeds the network '
                f'{mine[0]}x{mine[1]}: its detections would not be the model\'s. ' + fix)
        differ = self.meta.mismatches(config_settings(cfg))
        if differ:
            raise ValueError(
                f'{onnx_file} was exported{where} with settings that differ from {what}\'s, '
                'and they are inside the graph (the config\'s would be ignored): '
                + '; '.join(differ) + '. ' + fix)

    def __call__(self, inputs: list, samples: list, times: Dict[str, float]) -> List[Detections]:
        start = time.perf_counter()
        n = len(inputs)
        batch = np.empty((n, 3, self.input_h, self.input_w), np.float32)
        batch[:] = self.pad_value
        shapes = np.zeros((n, 2), np.float32)
        for i, (x, s) in enumerate(zip(inputs, samples)):
            _, h, w = x.shape
            if h > self.input_h or w > self.input_w:
                raise ValueError(
                    f'A preprocessed image of {w}x{h} is larger than the ONNX input '
                    f'{self.input_w}x{self.input_h}: export the graph from a config whose '
                    'test Resize scale is this size or larger.')
            batch[i, :, :h, :w] = x.numpy()
            shapes[i] = s.metainfo['img_shape'][:2]
        t0 = time.perf_counter()
        boxes, scores, labels, index = self.session.run(
            None, dict(images=batch, img_shape=shapes))
        t1 = time.perf_counter()
        out = []
        for i, s in enumerate(samples):
            keep = np.flatnonzero(index == i)
            keep = keep[np.argsort(-scores[keep], kind='stable')][:self.meta.max_per_img]
            sx, sy = s.metainfo['scale_factor']
            out.append(Detections((boxes[keep] / np.array([sx, sy, sx, sy], np.float32)
                                   ).astype(np.float32), scores[keep].astype(np.float32),
                                  labels[keep].astype(np.int64)))
        t2 = time.perf_counter()
        # The graph runs network and NMS in one call; the time goes to 'model' (the share
        # of NMS inside the graph is not separable), the split by image to 'nms', the
        # padded batch to 'preprocess' (MMDetection's data_preprocessor, which PyTorch
        # runs inside 'model', normalises in the graph here).
        times['preprocess'] += t0 - start
        times['model'] += t1 - t0
        times['nms'] += t2 - t1
        return out

    def smallest_anchors(self) -> np.ndarray:
        return np.asarray(self.meta.smallest_anchors, np.float64).reshape(-1, 2)

    def pos_iou_thr(self) -> float:
        return float(self.meta.pos_iou_thr)

    def nms_iou_thr(self) -> float:
        return float(self.meta.iou_thr)

    def max_per_img(self) -> int:
        return int(self.meta.max_per_img)

    def input_size(self) -> Tuple[int, int]:
        return self.input_w, self.input_h


def build_backend(kind: str, cfg, weights: str, device: str = 'cpu',
                  config: Optional[str] = None):
    """``pytorch`` (a checkpoint) or ``onnxruntime`` (an exported ``.onnx``, checked against
    ``cfg``, whose file is ``config``)."""
    if kind == 'pytorch':
        if weights.endswith('.onnx'):
            raise ValueError(f'{weights} is an ONNX graph: pass --backend onnxruntime.')
        return PyTorchBackend(cfg, weights, device)
    if kind == 'onnxruntime':
        if not weights.endswith('.onnx'):
            raise ValueError(f'--backend onnxruntime runs an exported graph (.onnx), got '
                             f'{weights}: export it with tools/deployment/export_onnx.py.')
        return OnnxRuntimeBackend(cfg, weights, device, config=config)
    raise ValueError(f'--backend {kind!r}: expected pytorch or onnxruntime.')
