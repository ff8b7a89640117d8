from .anchor_coverage import AnchorCoverage, AnchorCoverageHook, CoverageBin
from .base import DiagnosticHook, Finding, TrainingDiagnosisError
from .checkpoint_hook import CrashSafeCheckpointHook
from .dataset_sanity import DatasetSanityHook
from .divergence import DivergenceHook
from .nonfinite_loss import NonFiniteLossHook
from .positive_anchor import PositiveAnchorHook
from .pretrained_weights import PretrainedWeightsHook
from .weight_health import WeightHealthHook
from .zero_ap import ZeroAPDiagnosisHook

__all__ = [
    'AnchorCoverage', 'AnchorCoverageHook', 'CoverageBin', 'CrashSafeCheckpointHook',
    'DatasetSanityHook', 'DiagnosticHook', 'DivergenceHook', 'Finding',
    'NonFiniteLossHook', 'PositiveAnchorHook', 'PretrainedWeightsHook',
    'TrainingDiagnosisError', 'WeightHealthHook', 'ZeroAPDiagnosisHook'
]
