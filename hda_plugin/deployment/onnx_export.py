"""SSD (and any single-stage detector with a softmax anchor head) as one ONNX graph:
normalisation, network, anchor decoding, score filtering and NMS.

Exported with ``torch.onnx.export`` (the TorchScript exporter, ``dynamo=False``), not
mmdeploy: mmdeploy 1.x pins mmcv < 2.2 with torch <= 2.x builds older than the pinned
torch 2.14.1 and has no wheel of its ops for this stack, while the graph needs nothing
beyond standard ONNX operators. NMS is ONNX's own ``NonMaxSuppression`` (opset 11+), so
ONNX Runtime and any other runtime run the whole detector.

Rules kept from ``BaseDenseHead.predict_by_feat`` (MMDetection 3.3.0), so the graph gives
the same detections as the PyTorch model:

* softmax over classes and background, background dropped (``use_sigmoid_cls=False``);
* per level, the ``nms_pre`` highest (anchor, class) scores; scores ``<= score_thr`` out
  (``NonMaxSuppression``'s ``score_threshold`` keeps ``score > thr``, as
  ``filter_scores_and_topk``);
* deltas decoded with the head's own ``bbox_coder`` and clipped to each image's unpadded
  shape (the ``img_shape`` input);
* boxes with zero width or height out (``min_bbox_size=0``);
* class-wise NMS at ``nms.iou_threshold``, ``max_per_img`` boxes kept **per class** in the
  graph; the runtime keeps the ``max_per_img`` best of each image over all classes (equal
  for the one-class person detector).
"""
from typing import Optional, Sequence, Tuple

import torch
from torch import nn

from ..fileio.atomic import AtomicWriter
from .onnx_metadata import ONNX_META_KEY, OnnxMetadata, baked_settings
from .preprocess import Preprocessor

__all__ = ['SSDOnnxModel', 'export_onnx', 'input_size_of', 'ONNX_OPSET']

ONNX_OPSET = 17


class _NonMaxSuppression(torch.autograd.Function):
    """``NonMaxSuppression`` in the graph; in PyTorch (while tracing) the same selection
    computed with mmcv's ``nms``, so the traced shapes are real."""

    @staticmethod
    def forward(ctx, boxes, scores, max_out: int, iou_thr: float, score_thr: float):
        from mmcv.ops import nms
        out = []
        for b in range(boxes.shape[0]):
            for c in range(scores.shape[1]):
                s = scores[b, c]
                idx = torch.nonzero(s > score_thr).reshape(-1)
                if idx.numel() == 0:
                    continue
                _, keep = nms(boxes[b, idx], s[idx], iou_thr)
                keep = idx[keep[:max_out]]
                out.append(torch.stack([torch.full_like(keep, b), torch.full_like(keep, c),
                                        keep], 1))
        return torch.cat(out) if out else torch.zeros((0, 3), dtype=torch.int64)

    @staticmethod
    def symbolic(g, boxes, scores, max_out: int, iou_thr: float, score_thr: float):
        return g.op('NonMaxSuppression', boxes, scores,
                    g.op('Constant', value_t=torch.tensor([max_out], dtype=torch.int64)),
                    g.op('Constant', value_t=torch.tensor([iou_thr], dtype=torch.float32)),
                    g.op('Constant', value_t=torch.tensor([score_thr], dtype=torch.float32)),
                    center_point_box_i=0)


class SSDOnnxModel(nn.Module):
    """``(images, img_shape) -> (boxes, scores, labels, batch_index)``.

    Args:
        detector: an MMDetection single-stage detector (``SSDHead`` or another anchor head
            with softmax classification), in eval mode.
        input_size: ``(width, height)`` of the graph's input.
    """

    def __init__(self, detector: nn.Module, input_size: Tuple[int, int]):
        super().__init__()
        head = detector.bbox_head
        if getattr(head, 'use_sigmoid_cls', False):
            raise NotImplementedError(f'{type(head).__name__} scores with sigmoid; the exporter '
                                      'handles softmax heads (SSDHead).')
        self.detector, self.head = detector, head
        self.num_classes = head.num_classes
        pre = detector.data_preprocessor
        self.register_buffer('mean', pre.mean.reshape(1, 3, 1, 1).clone())
        self.register_buffer('std', pre.std.reshape(1, 3, 1, 1).clone())
        self.bgr_to_rgb = bool(getattr(pre, '_channel_conversion', False))
        cfg = head.test_cfg
        baked = baked_settings(cfg)  # the rule the runtime checks a config with
        self.nms_pre, self.score_thr = baked['nms_pre'], baked['score_thr']
        self.iou_thr, self.max_per_img = baked['iou_thr'], baked['max_per_img']
        if cfg.get('min_bbox_size', -1) > 0:
            raise NotImplementedError('test_cfg.min_bbox_size > 0 is not exported.')
        w, h = input_size
        with torch.no_grad():
            feats = detector.extract_feat(torch.zeros(1, 3, h, w))
            cls_scores, _ = head(feats)
        sizes = [c.shape[-2:] for c in cls_scores]
        priors = head.prior_generator.grid_priors(sizes, device='cpu')
        for i, p in enumerate(priors):
            self.register_buffer(f'priors{i}', p.clone())
        self.num_levels = len(priors)
        self.input_size = (int(w), int(h))

    def metadata(self, config: Optional[str] = None,
                 checkpoint: Optional[str] = None) -> OnnxMetadata:
        """What the runtime needs besides the graph (stored in the ONNX metadata)."""
        mean = self.mean.reshape(3).tolist()
        std = self.std.reshape(3).tolist()
        anchors = self.head.prior_generator.gen_base_anchors()[0]
        assigner = (getattr(self.head, 'train_cfg', None) or {}).get('assigner', {})
        return OnnxMetadata(
            input_size=self.input_size, pad_value_bgr=mean[::-1] if self.bgr_to_rgb else mean,
            score_thr=self.score_thr, iou_thr=self.iou_thr, nms_pre=self.nms_pre,
            max_per_img=self.max_per_img, num_classes=self.num_classes,
            pos_iou_thr=float(assigner.get('pos_iou_thr', 0.5)),
            smallest_anchors=torch.stack([anchors[:, 2] - anchors[:, 0],
                                          anchors[:, 3] - anchors[:, 1]], 1).tolist(),
            config=config, checkpoint=checkpoint,
            norm_std_bgr=std[::-1] if self.bgr_to_rgb else std)

    def _decode(self, priors: torch.Tensor, deltas: torch.Tensor, img_shape: torch.Tensor):
        """The head's ``DeltaXYWHBBoxCoder`` on ``(N, k, 4)`` priors and deltas, clipped to
        each image's ``(h, w)``.

        Upstream defect (mmdet 3.3.0): ``DeltaXYWHBBoxCoder.decode`` sends batched input,
        and any input during ONNX export, to ``onnx_delta2bbox``, which imports
        ``mmdet.core.export`` (removed in 3.x) and fails. The single-image function the
        eager model uses, ``delta2bbox``, is called on the flattened batch instead, and the
        clip it does with ``max_shape`` is done here per image (same ``clamp`` bounds).
        """
        from mmdet.models.task_modules.coders.delta_xywh_bbox_coder import delta2bbox
        coder = self.head.bbox_coder
        if type(coder).__name__ != 'DeltaXYWHBBoxCoder':
            raise NotImplementedError(f'{type(coder).__name__}: the exporter decodes '
                                      'DeltaXYWHBBoxCoder deltas (SSD\'s coder).')
        n = deltas.shape[0]
        b = delta2bbox(priors.reshape(-1, 4), deltas.reshape(-1, 4), coder.means, coder.stds,
                       max_shape=None, clip_border=False, add_ctr_clamp=coder.add_ctr_clamp,
                       ctr_clamp=coder.ctr_clamp).reshape(n, -1, 4)
        if not coder.clip_border:
            return b
        hi = torch.stack([img_shape[:, 1], img_shape[:, 0]] * 2, 1).unsqueeze(1)  # (N,1,4)
        return torch.minimum(b.clamp(min=0), hi)

    def forward(self, images: torch.Tensor, img_shape: torch.Tensor):
        x = images[:, [2, 1, 0]] if self.bgr_to_rgb else images
        x = (x - self.mean) / self.std
        cls_scores, bbox_preds = self.head(self.detector.extract_feat(x))
        n, c = x.shape[0], self.num_classes
        boxes, scores = [], []
        for lvl in range(self.num_levels):
            priors = getattr(self, f'priors{lvl}')
            s = cls_scores[lvl].permute(0, 2, 3, 1).reshape(n, -1, c + 1).softmax(-1)[..., :c]
            d = bbox_preds[lvl].permute(0, 2, 3, 1).reshape(n, -1, 4)
            flat = s.reshape(n, -1)
            k = flat.shape[1] if self.nms_pre <= 0 else min(self.nms_pre, flat.shape[1])
            top, idx = flat.topk(k, dim=1)
            anchor, label = idx // c, idx % c
            d = torch.gather(d, 1, anchor.unsqueeze(-1).expand(-1, -1, 4))
            boxes.append(self._decode(priors[anchor], d, img_shape))
            onehot = (label.unsqueeze(1) == torch.arange(c).reshape(1, c, 1)).to(top.dtype)
            scores.append(onehot * top.unsqueeze(1))
        boxes = torch.cat(boxes, 1)  # (N, K, 4)
        scores = torch.cat(scores, 2)  # (N, C, K)
        valid = ((boxes[..., 2] - boxes[..., 0]) > 0) & ((boxes[..., 3] - boxes[..., 1]) > 0)
        scores = scores * valid.unsqueeze(1).to(scores.dtype)
        sel = _NonMaxSuppression.apply(boxes, scores, self.max_per_img, self.iou_thr,
                                       self.score_thr)
        b_idx, c_idx, k_idx = sel[:, 0], sel[:, 1], sel[:, 2]
        return boxes[b_idx, k_idx], scores[b_idx, c_idx, k_idx], c_idx, b_idx


class _StagedExport(AtomicWriter):
    """The ``.onnx`` written by the exporter under its staged name (``<out>.part<pid>``),
    renamed over ``out_file`` by :meth:`commit` once complete and checked."""

    def _close_staged(self) -> None:
        pass  # torch.onnx.export and onnx.save close the file they write


def export_onnx(detector: nn.Module, out_file: str, input_size: Tuple[int, int],
                batch: int = 1, config: Optional[str] = None,
                checkpoint: Optional[str] = None) -> OnnxMetadata:
    """Writes ``out_file`` (checked with ``onnx.checker``) with its :class:`OnnxMetadata`
    (``config`` and ``checkpoint`` recorded as provenance); returns the metadata.

    The graph is exported, given its metadata, checked and saved under the staged name
    ``out_file.part<pid>``, then renamed over ``out_file``: an exception or a kill midway
    leaves an earlier ``out_file`` as it was (and, on an exception, no staged file)."""
    from ..utils.extras import require
    onnx = require('onnx', 'deploy', 'ONNX export (tools/deployment/export_onnx.py)')
    wrapper = SSDOnnxModel(detector.eval(), input_size).eval()
    w, h = wrapper.input_size
    images = torch.rand(batch, 3, h, w) * 255
    shapes = torch.tensor([[h, w]] * batch, dtype=torch.float32)
    with _StagedExport(out_file) as staged:
        with torch.no_grad():
            torch.onnx.export(
                wrapper, (images, shapes), staged.staged, dynamo=False,
                opset_version=ONNX_OPSET, input_names=['images', 'img_shape'],
                output_names=['boxes', 'scores', 'labels', 'batch_index'],
                dynamic_axes=dict(images={0: 'batch'}, img_shape={0: 'batch'},
                                  boxes={0: 'detections'}, scores={0: 'detections'},
                                  labels={0: 'detections'}, batch_index={0: 'detections'}))
        model = onnx.load(staged.staged)
        meta = wrapper.metadata(config, checkpoint)
        entry = model.metadata_props.add()
        entry.key, entry.value = ONNX_META_KEY, meta.to_json()
        onnx.checker.check_model(model, full_check=True)
        onnx.save(model, staged.staged)
    return meta


def input_size_of(cfg) -> Sequence[int]:
    """``(width, height)`` the config's test pipeline feeds the network: its ``Resize``
    scale, padded up to the data preprocessor's ``pad_size_divisor``."""
    resize = Preprocessor(cfg).resize
    if resize is None or 'scale' not in resize:
        raise ValueError('The config\'s test pipeline has no Resize with a scale: give '
                         '--input-size W H.')
    w, h = resize['scale']
    div = int(cfg.model.get('data_preprocessor', {}).get('pad_size_divisor', 1) or 1)
    return (-(-int(w) // div) * div, -(-int(h) // div) * div)
