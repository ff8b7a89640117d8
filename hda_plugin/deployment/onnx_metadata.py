"""What a runtime needs besides the exported graph, as one record: the exporter writes it
into the ``.onnx`` file's metadata (key :data:`ONNX_META_KEY`, JSON), ONNX Runtime's
backend reads it back. Both go through :class:`OnnxMetadata`, so the keys are listed once.
No onnx import: the record is plain JSON."""
import json
import math
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

__all__ = ['ONNX_META_KEY', 'OnnxMetadata', 'baked_settings', 'config_settings']

#: Key of the JSON record in the ONNX file's ``metadata_props``.
ONNX_META_KEY = 'hda_ssd'

_EXPORTER = 'tools/deployment/export_onnx.py'


@dataclass
class OnnxMetadata:
    """The exported detector's settings.

    Attributes:
        input_size: ``(width, height)`` of the graph's ``images`` input.
        pad_value_bgr: the normalisation mean in the input's BGR order: padding with it
            gives 0 after normalisation (MMDetection's zero padding of the normalised batch).
        score_thr: ``test_cfg.score_thr`` (inside the graph).
        iou_thr: ``test_cfg.nms.iou_threshold`` (inside the graph; also the tile merge's).
        nms_pre: ``test_cfg.nms_pre`` per level (inside the graph).
        max_per_img: ``test_cfg.max_per_img``: the graph keeps it per class, the runtime per
            image (and the tile merge per frame).
        num_classes: classes of the head.
        pos_iou_thr: the training assigner's ``pos_iou_thr`` (the ``--tile auto`` rule).
        smallest_anchors: ``(k, 2)`` widths and heights of the finest level's anchors, input
            pixels (the ``--tile auto`` rule).
        outputs: what the graph returns, for a reader of the file.
        config: the config exported (provenance), if known.
        checkpoint: the checkpoint exported (provenance), if known.
        norm_std_bgr: the normalisation std in the input's BGR order (inside the graph);
            None in files written before it was recorded.
    """
    input_size: Tuple[int, int]
    pad_value_bgr: List[float]
    score_thr: float
    iou_thr: float
    nms_pre: int
    max_per_img: int
    num_classes: int
    pos_iou_thr: float
    smallest_anchors: List[List[float]]
    outputs: str = ('boxes (K,4) x1y1x2y2 input pixels, scores (K,), labels (K,), '
                    'batch_index (K,)')
    config: Optional[str] = field(default=None)
    checkpoint: Optional[str] = field(default=None)
    norm_std_bgr: Optional[List[float]] = field(default=None)

    def __post_init__(self):
        self.input_size = tuple(int(v) for v in self.input_size)

    def to_json(self) -> str:
        d = asdict(self)
        d['input_size'] = list(self.input_size)
        return json.dumps(d)

    def mismatches(self, settings: Mapping[str, object]) -> List[str]:
        """``'field: graph X, config Y'`` for each of ``settings`` (:func:`config_settings`)
        that differs from what the graph was exported with (floats to 1e-5, relative:
        the graph's values went through float32); fields the record lacks are skipped."""
        out = []
        for key, want in settings.items():
            have = getattr(self, key, None)
            if have is None or want is None or _same(have, want):
                continue
            out.append(f'{key}: graph {_fmt(have)}, config {_fmt(want)}')
        return out

    @classmethod
    def from_json(cls, text: str, source: str) -> 'OnnxMetadata':
        """The record in ``text``; ``source`` (the file) is named in every error."""
        try:
            d = json.loads(text)
        except ValueError as e:
            raise ValueError(f'{source}: the {ONNX_META_KEY!r} metadata is not JSON ({e}). '
                             f'Re-export the checkpoint with {_EXPORTER}.') from None
        if not isinstance(d, dict):
            raise ValueError(f'{source}: the {ONNX_META_KEY!r} metadata is a '
                             f'{type(d).__name__}, a JSON object expected. Re-export the '
                             f'checkpoint with {_EXPORTER}.')
        known = [f.name for f in fields(cls)]
        required = [f.name for f in fields(cls)
                    if f.default is MISSING and f.default_factory is MISSING]
        missing = [k for k in required if k not in d]
        unknown = sorted(k for k in d if k not in known)
        if missing or unknown:
            what = '; '.join(s for s in (
                f'missing {missing}' if missing else '',
                f'unknown {unknown}' if unknown else '') if s)
            raise ValueError(
                f'{source}: the {ONNX_META_KEY!r} metadata has keys {sorted(d)} ({what}); '
                f'this hda-ssd reads {known}. The file was written by another version of '
                f'{_EXPORTER}: export the checkpoint again with this one.')
        try:
            return cls(**d)
        except (TypeError, ValueError) as e:
            raise ValueError(f'{source}: the {ONNX_META_KEY!r} metadata does not hold valid '
                             f'values ({e}). Re-export the checkpoint with {_EXPORTER}.') from None

    @classmethod
    def from_metadata_map(cls, metadata: Mapping[str, str], source: str) -> 'OnnxMetadata':
        """The record among an ONNX file's metadata (``metadata_props``, or ONNX Runtime's
        ``custom_metadata_map``)."""
        text = metadata.get(ONNX_META_KEY)
        if text is None:
            raise ValueError(f'{source}: no {ONNX_META_KEY!r} metadata; it was not written by '
                             f'{_EXPORTER}. Export the checkpoint with it.')
        return cls.from_json(text, source)



def _same(a, b) -> bool:
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        a, b = list(a), list(b)
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return math.isclose(float(a), float(b), rel_tol=1e-5, abs_tol=1e-9)


def _fmt(v) -> str:
    if isinstance(v, (list, tuple)):
        return '[' + ', '.join(_fmt(x) for x in v) + ']'
    return f'{float(v):.6g}' if isinstance(v, float) else str(v)


def baked_settings(test_cfg: Mapping, mean: Optional[Sequence[float]] = None,
                   std: Optional[Sequence[float]] = None,
                   bgr_to_rgb: bool = False) -> Dict[str, object]:
    """What an exported graph bakes in, keyed as :class:`OnnxMetadata`'s fields, read with
    the exporter's defaults: ``test_cfg``'s ``score_thr`` (0), ``nms.iou_threshold``,
    ``nms_pre`` (-1: all), ``max_per_img`` (100); the normalisation ``mean`` (the pad
    value) and ``std`` in the graph input's BGR order (None when not given)."""
    def bgr(v):
        if v is None:
            return None
        v = [float(x) for x in v]
        return v[::-1] if bgr_to_rgb else v
    return dict(score_thr=float(test_cfg.get('score_thr', 0.0)),
                iou_thr=float(test_cfg['nms']['iou_threshold']),
                nms_pre=int(test_cfg.get('nms_pre', -1)),
                max_per_img=int(test_cfg.get('max_per_img', 100)),
                pad_value_bgr=bgr(mean), norm_std_bgr=bgr(std))


def config_settings(cfg) -> Dict[str, object]:
    """:func:`baked_settings` of a config (``model.test_cfg``, else the head's;
    ``model.data_preprocessor``), as the exporter would read them from the built model."""
    model = cfg['model']
    test_cfg = model.get('test_cfg') or model.get('bbox_head', {}).get('test_cfg')
    if not test_cfg or 'nms' not in test_cfg:
        raise ValueError('The config has no model.test_cfg with nms: it is not a config '
                         f'{_EXPORTER} exports.')
    pre = model.get('data_preprocessor') or {}
    return baked_settings(test_cfg, pre.get('mean'), pre.get('std'),
                          bool(pre.get('bgr_to_rgb', False)))
