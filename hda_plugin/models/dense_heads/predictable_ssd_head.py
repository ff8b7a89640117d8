"""``PredictableSSDHead``: mmdet 3.3.0's ``SSDHead``, able to predict.

mmdet 3.3.0's ``BaseDenseHead._predict_by_feat_single`` reads
``getattr(self.loss_cls, 'custom_cls_channels', False)``, and ``SSDHead`` never defines
``loss_cls`` (SSD computes its classification loss inline, with hard negative mining): every
validation or test of a stock SSD fails with ``'SSDHead' object has no attribute
'loss_cls'`` (open-mmlab/mmdetection#11063, #11305, #11780; the fix, PR #11524, is
unmerged). The HDA configs name this head in ``model.bbox_head.type``.
"""
from mmdet.models.dense_heads import SSDHead
from mmdet.registry import MODELS

__all__ = ['PredictableSSDHead']


@MODELS.register_module()
class PredictableSSDHead(SSDHead):
    """``SSDHead`` with the ``loss_cls`` attribute its base class reads when predicting.

    ``None`` makes ``getattr(None, 'custom_cls_channels', False)`` False, so prediction
    takes the softmax branch SSD trains for, as PR #11524 intends. No module is added:
    parameter names, training and checkpoints are ``SSDHead``'s, so a checkpoint trained
    with ``type='SSDHead'`` loads into this head and back.

    Args: those of :class:`mmdet.models.dense_heads.SSDHead`.
    """
    loss_cls = None
