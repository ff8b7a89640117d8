from .bootstrap import (
    BenchmarkImages,
    BootstrapResult,
    BootstrapSettings,
    MatchedDetections,
    bootstrap_benchmark,
    match_benchmark_detections,
    weighted_mr2,
)
from .caltech import CaltechEvaluation, CaltechImage, evaluate_caltech
from .citypersons import (
    CityPersonsEvaluation,
    CityPersonsImage,
    CityPersonsSetup,
    evaluate_citypersons,
)
from .dbeval import (
    BenchmarkFrame,
    CameraBoxes,
    benchmark_metrics,
    benchmark_notes,
    evaluate_benchmark,
    load_benchmark_dt,
    load_benchmark_gt,
)
from .functional import (
    REF_FPPI,
    REF_FPPI_MR4,
    MissRateSummary,
    RocCurve,
    log_average_miss_rate,
    match_batch,
    match_image,
    miss_rate_fppi,
    per_group_roc_curves,
    roc_curve,
)
from .metrics import (
    CaltechMetric,
    CameraVOCMetric,
    CityPersonsMetric,
    DumpHDADetections,
    HDABenchmarkMetric,
    ImageMatch,
    MissRateMetric,
)
from .protocols import (
    CALTECH_SETTINGS,
    CITYPERSONS,
    CITYPERSONS_SETUPS,
    DOLLAR_SETTINGS,
    HDA_BENCHMARK,
    HDA_BENCHMARK_RULES,
    hda_benchmark_title,
)

__all__ = [
    'REF_FPPI', 'REF_FPPI_MR4', 'CaltechMetric', 'HDABenchmarkMetric', 'MissRateMetric',
    'CameraVOCMetric', 'DumpHDADetections', 'ImageMatch', 'MissRateSummary', 'RocCurve',
    'log_average_miss_rate', 'match_batch', 'match_image', 'miss_rate_fppi', 'roc_curve',
    'per_group_roc_curves', 'CameraBoxes', 'BenchmarkFrame', 'evaluate_benchmark',
    'load_benchmark_dt', 'load_benchmark_gt', 'benchmark_notes', 'benchmark_metrics',
    'CaltechImage', 'CaltechEvaluation', 'evaluate_caltech', 'CALTECH_SETTINGS',
    'DOLLAR_SETTINGS', 'HDA_BENCHMARK', 'HDA_BENCHMARK_RULES', 'hda_benchmark_title',
    'CityPersonsMetric', 'CityPersonsImage', 'CityPersonsSetup', 'CityPersonsEvaluation',
    'evaluate_citypersons', 'CITYPERSONS', 'CITYPERSONS_SETUPS',
    'BenchmarkImages', 'MatchedDetections', 'BootstrapSettings', 'BootstrapResult',
    'bootstrap_benchmark', 'match_benchmark_detections', 'weighted_mr2'
]
