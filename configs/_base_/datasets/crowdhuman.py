# The CrowdHuman data set in place of COCO: local paths, train/val splits, dataloaders and
# MMDetection's CrowdHuman evaluation (docs/datasets.md, CrowdHuman). Loads alone, with
# SSD's pipelines of person_pipelines.py.
_base_ = './person_pipelines.py'

# Folder holding annotation_train.odgt, annotation_val.odgt and Images/ (CrowdHuman_train0*.zip
# and CrowdHuman_val.zip unpacked there). Copied into the datasets and the metric below when
# the config is read: set it through the environment, not --cfg-options.
crowdhuman_root = '{{$CROWDHUMAN_ROOT:data/crowdhuman/}}'

# tag person -> person (full-body fbox); tag mask and extra.ignore=1 -> ignore regions. Sizes
# from the JPEG headers, no id_hw cache written. val is the test split of papers.
crowdhuman_train = dict(
    type='CrowdHumanPersonDataset',
    data_root=crowdhuman_root,
    split='train',
    filter_cfg=dict(filter_empty_gt=True, min_size=32),
    pipeline={{_base_.train_pipeline}})
crowdhuman_test = dict(
    type='CrowdHumanPersonDataset',
    data_root=crowdhuman_root,
    split='val',
    test_mode=True,
    pipeline={{_base_.test_pipeline}})

train_dataloader = dict(
    num_workers=4,
    persistent_workers=True,
    dataset=dict(_delete_=True, type='RepeatDataset', times=1, dataset=crowdhuman_train))
val_dataloader = dict(dataset=dict(_delete_=True, **crowdhuman_test))
test_dataloader = val_dataloader

# MMDetection's CrowdHumanMetric: AP, MR-2 (CALTECH_-2) and JI on full-body boxes; it reads
# the .odgt itself and pairs its lines with the predictions in order (no shuffling).
val_evaluator = [
    dict(type='CrowdHumanMetric', ann_file=crowdhuman_root + '/annotation_val.odgt',
         metric=['AP', 'MR', 'JI'], num_ji_process=4)
]
test_evaluator = val_evaluator
