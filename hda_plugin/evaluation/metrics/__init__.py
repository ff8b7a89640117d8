"""The evaluators configs name: one class per module, registered in ``mmdet``'s
``METRICS``."""
from .caltech_metric import CaltechMetric, ImageMatch
from .camera_voc_metric import CameraVOCMetric
from .citypersons_metric import CityPersonsMetric
from .dump_hda_detections import DumpHDADetections
from .finite_predictions import check_finite_predictions
from .hda_benchmark_metric import HDABenchmarkMetric
from .miss_rate_metric import MissRateMetric

__all__ = ['CaltechMetric', 'ImageMatch', 'CameraVOCMetric', 'DumpHDADetections',
           'HDABenchmarkMetric', 'MissRateMetric', 'check_finite_predictions',
           'CityPersonsMetric']
