# SSD-512 trained on one mixed set of the standard pedestrian data sets the user has
# (Caltech, CityPersons, CrowdHuman, INRIA, each read as distributed), tested on HDA as the
# benchmark's baseline was: every annotated camera but 02, hda-benchmark protocol, the figure
# beside AcfInria's 65 % / 62 % (docs/datasets.md).
#
#   CALTECH_ROOT=/data/caltech CITYPERSONS_ROOT=/data/cityscapes CROWDHUMAN_ROOT=/data/crowdhuman \
#   INRIA_ROOT=/data/INRIAPerson VGG16_WEIGHTS=/models/vgg16_caffe-292e1171.pth \
#       tools/dist_train.sh configs/ssd512_pedestrians-to-hda.py 4
#   HDA_ROOT=/data/HDA_Dataset_V1.3 python tools/test.py configs/ssd512_pedestrians-to-hda.py \
#       work_dirs/ssd512_pedestrians-to-hda/epoch_24.pth
#
# A set whose root variable is unset is left out (PersonConcatDataset logs which); at least
# one must be set. All of them share HDADataset's label map (person = 0; the sets' other
# labels are ignore regions), so they mix without MMEngine's metainfo clash
# (hda_plugin/datasets/person.py). The test side is ssd512_inria-to-hda.py's: HDADataset over
# the benchmark's cameras with ssd512_hda.py's evaluators.
_base_ = './ssd512_inria-to-hda.py'

caltech_root = '{{$CALTECH_ROOT:unset}}'
citypersons_root = '{{$CITYPERSONS_ROOT:unset}}'
crowdhuman_root = '{{$CROWDHUMAN_ROOT:unset}}'
inria_root = '{{$INRIA_ROOT:unset}}'

# Per-set repeat factors (RepeatDataset.times): how often each set is seen per epoch. With
# the full sets: Caltech 10x ~42k frames (half without people), CityPersons 2,975 images,
# CrowdHuman 15,000, INRIA 614 positives + 1,218 negatives; the defaults weight the small,
# well-annotated sets up. Change one with, e.g.,
#   --cfg-options train_dataloader.dataset.datasets.3.times=2
# (indices in the order below: caltech, citypersons, crowdhuman, inria).
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='PersonConcatDataset',
        datasets=[
            dict(type='RepeatDataset', times=1,
                 dataset=dict(type='CaltechDataset', data_root=caltech_root, split='train',
                              filter_cfg=dict(filter_empty_gt=True, min_size=32),
                              pipeline={{_base_.train_pipeline}})),
            dict(type='RepeatDataset', times=3,
                 dataset=dict(type='CityPersonsDataset', data_root=citypersons_root,
                              split='train', filter_cfg=dict(filter_empty_gt=True, min_size=32),
                              pipeline={{_base_.train_pipeline}})),
            dict(type='RepeatDataset', times=1,
                 dataset=dict(type='CrowdHumanPersonDataset', data_root=crowdhuman_root,
                              split='train', filter_cfg=dict(filter_empty_gt=True, min_size=32),
                              pipeline={{_base_.train_pipeline}})),
            dict(type='RepeatDataset', times=10,
                 dataset=dict(type='INRIAPersonDataset', data_root=inria_root, split='Train',
                              filter_cfg=dict(filter_empty_gt=False, min_size=32),
                              pipeline={{_base_.train_pipeline}})),
        ]))

# No validation during training: HDA is the test set (choosing a checkpoint on its cameras
# would be selection on the test set), and the mixed sets each have their own protocol
# (validate on one with its own config, e.g. configs/ssd512_citypersons.py). The last
# checkpoint is the model.
val_dataloader = None
val_evaluator = None
val_cfg = None
