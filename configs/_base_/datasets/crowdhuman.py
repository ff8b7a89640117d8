# The CrowdHuman data set in place of COCO: local paths, train/val splits, dataloaders and
# MMDetection's CrowdHuman evaluation (docs/datasets.md, CrowdHuman). Loads alone on top of
# the model config named in _base_.
_base_ = 'mmdet::ssd/ssd512_coco.py'

custom_imports = dict(imports=['hda_plugin'], allow_failed_imports=False)

# Folder holding annotation_train.odgt, annotation_val.odgt and Images/ (CrowdHuman_train0*.zip
# and CrowdHuman_val.zip unpacked there). Copied into the datasets and the metric below when
# the config is read: set it through the environment, not --cfg-options.
crowdhuman_root = '{{$CROWDHUMAN_ROOT:data/crowdhuman/}}'

# hda.py's fast SSD augmentation (docs/benchmarks.md): libjpeg-turbo decoding deferred to
# the crop, Expand + MinIoURandomCrop + Resize + RandomFlip as one warp, LUT colour jitter.
train_pipeline = [
    dict(type='LoadImageFast', defer_decode=True, backend_args={{_base_.backend_args}}),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='SSDRandomCropResize',
        scale=({{_base_.input_size}}, {{_base_.input_size}}),
        mean={{_base_.model.data_preprocessor.mean}},
        to_rgb={{_base_.model.data_preprocessor.bgr_to_rgb}},
        ratio_range=(1, 4),
        min_ious=(0.1, 0.3, 0.5, 0.7, 0.9),
        min_crop_size=0.3,
        flip_prob=0.5,
        impl='fast'),
    dict(
        type='PhotoMetricDistortionLUT',
        brightness_delta=32,
        contrast_range=(0.5, 1.5),
        saturation_range=(0.5, 1.5),
        hue_delta=18),
    dict(type='PackDetInputs')
]
# LoadHDAAnnotations/PackHDADetInputs carry each person's visible fraction and the sample's
# camera (the group of per-group metrics) into the data sample.
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args={{_base_.backend_args}}),
    dict(type='Resize', scale=(512, 512), keep_ratio=False),
    dict(type='LoadHDAAnnotations', with_bbox=True),
    dict(type='PackHDADetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]

# tag person -> person (full-body fbox); tag mask and extra.ignore=1 -> ignore regions. Sizes
# from the JPEG headers, no id_hw cache written. val is the test split of papers.
crowdhuman_train = dict(
    type='CrowdHumanPersonDataset',
    data_root=crowdhuman_root,
    split='train',
    filter_cfg=dict(filter_empty_gt=True, min_size=32),
    pipeline=train_pipeline)
crowdhuman_test = dict(
    type='CrowdHumanPersonDataset',
    data_root=crowdhuman_root,
    split='val',
    test_mode=True,
    pipeline=test_pipeline)

train_dataloader = dict(
    num_workers=4,
    persistent_workers=True,
    dataset=dict(_delete_=True, type='RepeatDataset', times=1, dataset=crowdhuman_train))
val_dataloader = dict(dataset=dict(_delete_=True, **crowdhuman_test))
test_dataloader = val_dataloader

# MMDetection's CrowdHumanMetric: AP, MR-2 (CALTECH_-2) and JI on full-body boxes; it reads
# the .odgt itself and pairs its lines with the predictions in order (no shuffling).
val_evaluator = [
    dict(type='CrowdHumanMetric', ann_file=crowdhuman_root + 'annotation_val.odgt',
         metric=['AP', 'MR', 'JI'], num_ji_process=4)
]
test_evaluator = val_evaluator
