# SSD-512 (VGG16) person detector trained on CrowdHuman's train split and tested on val (the
# split papers report).
#
#   CROWDHUMAN_ROOT=/data/CrowdHuman VGG16_WEIGHTS=/models/vgg16_caffe-292e1171.pth \
#       tools/dist_train.sh configs/ssd512_crowdhuman.py 4
#   CROWDHUMAN_ROOT=/data/CrowdHuman python tools/test.py configs/ssd512_crowdhuman.py \
#       work_dirs/ssd512_crowdhuman/epoch_24.pth
#
# ssd512_hda.py (the person model delta, runtime hooks, crash-safe checkpoints) with the HDA
# data replaced by CrowdHuman's as _base_/datasets/crowdhuman.py defines it
# (docs/datasets.md, CrowdHuman), and CrowdHuman's own evaluation only (the HDA metrics
# would fail on another set). CROWDHUMAN_ROOT is copied into the dicts when the config is
# read: set it through the environment, not --cfg-options.
_base_ = './ssd512_hda.py'

crowdhuman_root = '{{$CROWDHUMAN_ROOT:data/crowdhuman/}}'

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='RepeatDataset',
        times=1,
        dataset=dict(
            type='CrowdHumanPersonDataset',
            data_root=crowdhuman_root,
            split='train',
            filter_cfg=dict(filter_empty_gt=True, min_size=32),
            pipeline={{_base_.train_pipeline}})))
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='CrowdHumanPersonDataset',
        data_root=crowdhuman_root,
        split='val',
        test_mode=True,
        pipeline={{_base_.test_pipeline}}))
test_dataloader = val_dataloader

# MMDetection's CrowdHumanMetric: AP, MR-2 and JI on full-body boxes (it reads the .odgt).
val_evaluator = [
    dict(type='CrowdHumanMetric', ann_file=crowdhuman_root + '/annotation_val.odgt',
         metric=['AP', 'MR', 'JI'], num_ji_process=4)
]
test_evaluator = val_evaluator
