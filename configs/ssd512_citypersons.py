# SSD-512 (VGG16) person detector trained on CityPersons' train split and tested on val (the
# split papers report).
#
#   CITYPERSONS_ROOT=/data/citypersons VGG16_WEIGHTS=/models/vgg16_caffe-292e1171.pth \
#       tools/dist_train.sh configs/ssd512_citypersons.py 4
#   CITYPERSONS_ROOT=/data/citypersons python tools/test.py configs/ssd512_citypersons.py \
#       work_dirs/ssd512_citypersons/epoch_24.pth
#
# ssd512_hda.py (the person model delta, runtime hooks, crash-safe checkpoints) with the HDA
# data replaced by CityPersons' as _base_/datasets/citypersons.py defines it
# (docs/datasets.md, CityPersons), and CityPersons' own evaluation only (the HDA metrics
# would fail on another set). CITYPERSONS_ROOT is copied into the dicts when the config is
# read: set it through the environment, not --cfg-options.
_base_ = './ssd512_hda.py'

citypersons_root = '{{$CITYPERSONS_ROOT:data/citypersons/}}'

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='RepeatDataset',
        times=1,
        dataset=dict(
            type='CityPersonsDataset',
            data_root=citypersons_root,
            split='train',
            filter_cfg=dict(filter_empty_gt=True, min_size=32),
            pipeline={{_base_.train_pipeline}})))
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='CityPersonsDataset',
        data_root=citypersons_root,
        split='val',
        test_mode=True,
        pipeline={{_base_.test_pipeline}}))
test_dataloader = val_dataloader

# cvgroup-njust/CityPersons' eval_MR_multisetup.py: MR-2 on Reasonable, Small, Heavy, All
val_evaluator = [dict(type='CityPersonsMetric')]
test_evaluator = val_evaluator
