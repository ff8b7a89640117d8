from .anchor_coverage import AnchorCoverageHook
from .base import DiagnosticHook, Finding, TrainingDiagnosisError
from .dataset_sanity import DatasetSanityHook
from .divergence import DivergenceHook
from .nonfinite_loss import NonFiniteLossHook
from .positive_anchor import PositiveAnchorHook
from .pretrained_weights import PretrainedWeightsHook
from .weight_health import WeightHealthHook
from .zero_ap import ZeroAPDiagnosisHook

__all__ = [
    'AnchorCoverageHook', 'DatasetSanityHook', 'DiagnosticHook', 'DivergenceHook', 'Finding',
    'NonFiniteLossHook', 'PositiveAnchorHook', 'PretrainedWeightsHook',
    'TrainingDiagnosisError', 'WeightHealthHook', 'ZeroAPDiagnosisHook'
]
