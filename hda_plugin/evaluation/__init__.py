from .camera_voc_metric import CameraVOCMetric
from .dbeval import CameraBoxes, evaluate_benchmark, load_benchmark_dt, load_benchmark_gt
from .dump_hda_detections import DumpHDADetections
from .functional import (
                         REF_FPPI,
                         REF_FPPI_MR4,
                         log_average_miss_rate,
                         match_batch,
                         match_image,
                         miss_rate_fppi,
                         resize_to_aspect,
                         resize_xywh_to_aspect,
                         roc_curve,
)
from .miss_rate_metric import MissRateMetric
from .protocols import CALTECH_SETTINGS, DOLLAR_SETTINGS, HDA_BENCHMARK

__all__ = [
    'REF_FPPI', 'REF_FPPI_MR4', 'CameraVOCMetric', 'DumpHDADetections', 'MissRateMetric',
    'log_average_miss_rate', 'match_batch', 'match_image', 'miss_rate_fppi',
    'resize_to_aspect', 'resize_xywh_to_aspect', 'roc_curve', 'CameraBoxes',
    'evaluate_benchmark', 'load_benchmark_dt', 'load_benchmark_gt', 'CALTECH_SETTINGS',
    'DOLLAR_SETTINGS', 'HDA_BENCHMARK'
]
