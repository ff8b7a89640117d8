from .camera_voc_metric import CameraVOCMetric
from .functional import (REF_FPPI, log_average_miss_rate, match_image, miss_rate_fppi,
                         resize_to_aspect)
from .miss_rate_metric import MissRateMetric, camera_of

__all__ = [
    'REF_FPPI', 'CameraVOCMetric', 'MissRateMetric', 'camera_of', 'log_average_miss_rate',
    'match_image', 'miss_rate_fppi', 'resize_to_aspect'
]
