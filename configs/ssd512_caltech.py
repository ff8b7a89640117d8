# SSD-512 (VGG16) person detector trained on Caltech10x (set00-set05, every 3rd frame) and
# tested on the standard Caltech test set (set06-set10, every 30th frame: 4,024 images)
# with Dollár's dbEval settings (CaltechMetric, aspect 0.41, bnds [5 5 635 475]).
#
#   CALTECH_ROOT=/data/caltech VGG16_WEIGHTS=/models/vgg16_caffe-292e1171.pth \
#       tools/dist_train.sh configs/ssd512_caltech.py 4
#   CALTECH_ROOT=/data/caltech python tools/test.py configs/ssd512_caltech.py work_dirs/...pth
#
# ssd512_hda.py's model delta (one class, ignore regions honoured, VGG16 weights), runtime
# hooks and crash-safe checkpoints, with the data of configs/_base_/datasets/caltech.py in
# place of HDA's (the HDA metrics would fail on another set). The Reasonable MR-2 compares
# with the published Caltech (UsaTest, original annotations) figures (docs/datasets.md).
_base_ = './ssd512_hda.py'

caltech_root = '{{$CALTECH_ROOT:data/caltech/}}'

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='RepeatDataset',
        times=1,
        dataset=dict(type='CaltechDataset', data_root=caltech_root, split='train',
                     filter_cfg=dict(filter_empty_gt=True, min_size=32),
                     pipeline={{_base_.train_pipeline}})))
# The test set as dbEval.m loads it: person-fa left out, people/person?/ignore ignored.
val_dataloader = dict(
    dataset=dict(_delete_=True, type='CaltechDataset', data_root=caltech_root, split='test',
                 ignore_labels=('people', 'person?', 'ignore'), drop_labels=('person-fa', ),
                 test_mode=True, pipeline={{_base_.test_pipeline}}))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='CaltechMetric', aspect_ratio=0.41, bounds=(5, 5, 635, 475), per_camera=False,
         settings=['Reasonable', 'All', 'Scale=near', 'Scale=medium', 'Scale=far',
                   'Occ=none', 'Occ=partial', 'Occ=heavy']),
]
test_evaluator = val_evaluator
