from .predictable_ssd_head import PredictableSSDHead

__all__ = ['PredictableSSDHead']
