from .loading import LoadImageFast
from .person_visibility import LoadHDAAnnotations, PackHDADetInputs
from .photometric import PhotoMetricDistortionLUT
from .ssd_crop_resize import SSDRandomCropResize

__all__ = ['LoadHDAAnnotations', 'LoadImageFast', 'PackHDADetInputs', 'PhotoMetricDistortionLUT',
           'SSDRandomCropResize']
