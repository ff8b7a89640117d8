from .person_visibility import LoadHDAAnnotations, PackHDADetInputs

__all__ = ['LoadHDAAnnotations', 'PackHDADetInputs']
