# The Caltech Pedestrian data set in place of COCO: the release as distributed (frames read
# straight from setXX/VYYY.seq, boxes from annotations/setXX/VYYY.vbb), dataloaders and
# Dollár's Caltech evaluation (dbEval.m, UsaTest). Applied on top of the model config named
# in _base_; the train pipeline is configs/_base_/datasets/hda.py's fast SSD augmentation.
_base_ = 'mmdet::ssd/ssd512_coco.py'

custom_imports = dict(imports=['hda_plugin'], allow_failed_imports=False)

# The folder holding set00/ .. set10/ (the untarred setXX.tar) and annotations/ (the
# unzipped annotations.zip). Copied into the datasets below when the config is read: set it
# through the environment, not --cfg-options.
caltech_root = '{{$CALTECH_ROOT:data/caltech/}}'

# hda.py's pipeline: MMDetection's SSD augmentation (Expand, MinIoURandomCrop, Resize,
# RandomFlip, PhotoMetricDistortion) done by hda-ssd's faster transforms. LoadImageFast
# reads each frame's JPEG from its .seq (the data info's seq_frame); no frame is extracted.
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
# LoadImageFast, not LoadImageFromFile: the image is a frame of a .seq video.
test_pipeline = [
    dict(type='LoadImageFast', backend_args={{_base_.backend_args}}),
    dict(type='Resize', scale=(512, 512), keep_ratio=False),
    dict(type='LoadHDAAnnotations', with_bbox=True),
    dict(type='PackHDADetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]

# Train: "Caltech10x", set00-set05, every 3rd frame from the 3rd (0-based 2, 5, ...);
# people, person?, person-fa and ignore are ignore regions.
caltech_train = dict(
    type='CaltechDataset',
    data_root=caltech_root,
    split='train',
    filter_cfg=dict(filter_empty_gt=True, min_size=32),
    pipeline=train_pipeline)
# Test: the standard 4,024 images, set06-set10, every 30th frame from the 30th (0-based 29,
# 59, ...; ids set06_V000_I00029), loaded as Caltech's dbEval.m loads them: labels
# {person, person?, people, ignore}, all but person ignore regions, person-fa left out.
caltech_test = dict(
    type='CaltechDataset',
    data_root=caltech_root,
    split='test',
    ignore_labels=('people', 'person?', 'ignore'),
    drop_labels=('person-fa', ),
    test_mode=True,
    pipeline=test_pipeline)

train_dataloader = dict(
    num_workers=4,
    persistent_workers=True,
    dataset=dict(_delete_=True, type='RepeatDataset', times=1, dataset=caltech_train))
val_dataloader = dict(dataset=dict(caltech_test, _delete_=True))
test_dataloader = val_dataloader

# Dollár's Caltech evaluation (dbEval.m 3.2.1 on UsaTest): the exps table's settings as
# configs/_base_/hda_runtime.py lists them, every regular box at aspect 0.41, and its
# bnds = [5 5 635 475]: persons not wholly inside become ignore regions (filterGtFun);
# detections are not bounded.
val_evaluator = [
    dict(type='CaltechMetric', aspect_ratio=0.41, bounds=(5, 5, 635, 475),
         settings=['Reasonable', 'All', 'Scale=near', 'Scale=medium', 'Scale=far',
                   'Occ=none', 'Occ=partial', 'Occ=heavy']),
]
test_evaluator = val_evaluator
