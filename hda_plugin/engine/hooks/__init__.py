from .anchor_coverage import AnchorCoverageHook
from .base import DiagnosticHook, Finding, TrainingDiagnosisError
from .dataset_sanity import DatasetSanityHook
from .positive_anchor import PositiveAnchorHook
from .pretrained_weights import PretrainedWeightsHook
from .weight_health import WeightHealthHook
from .zero_ap import ZeroAPDiagnosisHook

__all__ = [
    'AnchorCoverageHook', 'DatasetSanityHook', 'DiagnosticHook', 'Finding',
    'PositiveAnchorHook', 'PretrainedWeightsHook', 'TrainingDiagnosisError',
    'WeightHealthHook', 'ZeroAPDiagnosisHook'
]
