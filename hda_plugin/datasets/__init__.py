"""Registered data sets and transforms: the HDA release as distributed, SSD-Tensorflow
TFRecords, and the standard pedestrian sets (Caltech, CityPersons, CrowdHuman, INRIA) as
distributed, all on one label map (:mod:`.person`). The releases' names and file formats
they read live in :mod:`hda_plugin.fileio`."""
from .caltech_dataset import CaltechDataset
from .citypersons_dataset import CityPersonsDataset
from .crowdhuman_dataset import CrowdHumanPersonDataset
from .hda_dataset import HDADataset
from .inria_dataset import INRIAPersonDataset
from .person import PERSON_METAINFO, PersonConcatDataset, PersonDataset
from .ssd_tfrecord_dataset import SSDTFRecordDataset
from .transforms import LoadHDAAnnotations, PackHDADetInputs

__all__ = [
    'CaltechDataset', 'CityPersonsDataset', 'CrowdHumanPersonDataset', 'HDADataset',
    'INRIAPersonDataset',
    'PERSON_METAINFO', 'PersonConcatDataset', 'PersonDataset', 'SSDTFRecordDataset',
    'LoadHDAAnnotations', 'PackHDADetInputs',
]
