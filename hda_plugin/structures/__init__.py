"""The ground floor: plain data and geometry every other package may use (boxes and their
conversions, one image's detections, resize and anchor geometry). It imports nothing of
hda_plugin, so a change here is a change everyone sees on purpose."""
from .anchors import (
    MIN_PERSON_HEIGHT,
    PERSON_ASPECT,
    best_centred_anchor_iou,
    centred_anchor_ious,
    resize_factors,
)
from .boxes import (
    normalise_xyxy,
    resize_to_aspect,
    resize_xywh_to_aspect,
    to_numpy,
    xywh_to_xyxy,
    xyxy_to_xywh,
)
from .detections import Detections

__all__ = ['MIN_PERSON_HEIGHT', 'PERSON_ASPECT', 'best_centred_anchor_iou',
           'centred_anchor_ious', 'resize_factors', 'normalise_xyxy', 'resize_to_aspect',
           'resize_xywh_to_aspect', 'to_numpy', 'xywh_to_xyxy', 'xyxy_to_xywh', 'Detections']
