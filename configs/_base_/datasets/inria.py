# The INRIA Person data set in place of COCO: the release as distributed (Train/Test, pos.lst
# with PASCAL 1.00 annotations, neg.lst images without people), dataloaders and Dollár's
# InriaTest evaluation. Loads alone, with SSD's pipelines of
# person_pipelines.py.
_base_ = './person_pipelines.py'

# The INRIAPerson folder of the release (holding Train/ and Test/ with their .lst files).
# Copied into the datasets below when the config is read: set it through the environment,
# not --cfg-options.
inria_root = '{{$INRIA_ROOT:data/INRIAPerson/}}'

# Train: the 614 positive images (PASperson boxes) and the 1,218 negatives, images without
# people (background to learn from). filter_empty_gt=False keeps the negatives: with True
# every one of them would be removed (counted in the load summary's last line).
inria_train = dict(
    type='INRIAPersonDataset',
    data_root=inria_root,
    split='Train',  # negatives included by default for Train
    filter_cfg=dict(filter_empty_gt=False, min_size=32),
    pipeline={{_base_.train_pipeline}})
# Test: the 288 positive test images, as Dollár's dbInfo('InriaTest') scores them (false
# positives per image over those; negatives=True adds the 453 negatives).
inria_test = dict(
    type='INRIAPersonDataset',
    data_root=inria_root,
    split='Test',
    test_mode=True,
    pipeline={{_base_.test_pipeline}})

train_dataloader = dict(
    num_workers=4,
    persistent_workers=True,
    dataset=dict(_delete_=True, type='RepeatDataset', times=1, dataset=inria_train))
val_dataloader = dict(dataset=dict(inria_test, _delete_=True))
test_dataloader = val_dataloader

# Dollár's INRIA evaluation (dbEval.m on InriaTest): the exps table's Reasonable (height
# >= 50 px, visible >= 0.65: INRIA has no visible boxes, so every person counts as
# unoccluded) with every box at aspect 0.41, IoU 0.5, and no border band (dbEval sets
# bnds=[-inf -inf inf inf] for InriaTest; CaltechMetric has none); All (>= 20 px) beside it.
val_evaluator = [
    dict(type='CaltechMetric', aspect_ratio=0.41, settings=['Reasonable', 'All']),
]
test_evaluator = val_evaluator
