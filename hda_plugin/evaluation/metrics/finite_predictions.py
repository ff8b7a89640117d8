"""Predictions with NaN or Inf stop the metrics, naming the image.

A NaN box fails every comparison, so it would pass every filter and match nothing, and a
NaN score sorts anywhere: a metric of such predictions is a number without meaning
(MR-2 0.0 and AP 1.0 were seen). A model that predicts them is broken, so this is an error,
not a count.
"""
from typing import Tuple

import numpy as np

from ...structures.boxes import to_numpy

__all__ = ['check_finite_predictions', 'class_predictions']


def check_finite_predictions(sample: dict) -> None:
    pred = sample['pred_instances']
    boxes = np.asarray(pred['bboxes'].cpu() if hasattr(pred['bboxes'], 'cpu')
                       else pred['bboxes'], dtype=np.float64).reshape(-1, 4)
    scores = np.asarray(pred['scores'].cpu() if hasattr(pred['scores'], 'cpu')
                        else pred['scores'], dtype=np.float64).reshape(-1)
    bad = ~np.isfinite(boxes).all(axis=1) | ~np.isfinite(scores)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f'{sample.get("img_path")}: {int(bad.sum())} of {len(bad)} predictions have a '
            f'non-finite box or score (first: box {boxes[i].tolist()}, score {scores[i]}). '
            'The model produced NaN/Inf: check the checkpoint (NonFiniteLossHook stops such '
            'a training) and the data_preprocessor mean/std; no metric is computed from them.')


def class_predictions(sample: dict, label: int) -> Tuple[np.ndarray, np.ndarray]:
    """The checked predictions of class ``label``: boxes ``(D, 4)`` ``x1 y1 x2 y2`` and
    scores ``(D,)``, as the model gave them (dtype kept)."""
    check_finite_predictions(sample)
    pred = sample['pred_instances']
    keep = to_numpy(pred['labels']) == label
    return to_numpy(pred['bboxes']).reshape(-1, 4)[keep], to_numpy(pred['scores']).reshape(
        -1)[keep]
