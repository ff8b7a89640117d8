# SSD-512 (VGG16) person detector trained on INRIA Person Train, tested on INRIA Test with
# Dollár's InriaTest evaluation (CaltechMetric, Reasonable and All, aspect 0.41).
#
#   INRIA_ROOT=/data/INRIAPerson VGG16_WEIGHTS=/models/vgg16_caffe-292e1171.pth \
#       tools/dist_train.sh configs/ssd512_inria.py 4
#   INRIA_ROOT=/data/INRIAPerson python tools/test.py configs/ssd512_inria.py work_dirs/...pth
#
# ssd512_hda.py's model delta (one class, ignore regions honoured, VGG16 weights), runtime
# hooks and crash-safe checkpoints, with the data of configs/_base_/datasets/inria.py in
# place of HDA's (the HDA metrics would fail on another set). The INRIA Test numbers
# compare with Dollár's InriaTest curves (docs/datasets.md, INRIA).
_base_ = './ssd512_hda.py'

inria_root = '{{$INRIA_ROOT:data/INRIAPerson/}}'

# Train with its negatives: filter_empty_gt=False, or they would all be filtered away.
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='RepeatDataset',
        times=1,
        dataset=dict(type='INRIAPersonDataset', data_root=inria_root, split='Train',
                     filter_cfg=dict(filter_empty_gt=False, min_size=32),
                     pipeline={{_base_.train_pipeline}})))
# The 288 positive test images, as dbInfo('InriaTest').
val_dataloader = dict(
    dataset=dict(_delete_=True, type='INRIAPersonDataset', data_root=inria_root,
                 split='Test', test_mode=True, pipeline={{_base_.test_pipeline}}))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='CaltechMetric', aspect_ratio=0.41, settings=['Reasonable', 'All']),
]
test_evaluator = val_evaluator
