# The CityPersons data set in place of COCO: local paths, train/val splits, dataloaders and
# the official evaluation (docs/datasets.md, CityPersons). Loads alone on top of the model
# config named in _base_.
_base_ = 'mmdet::ssd/ssd512_coco.py'

custom_imports = dict(imports=['hda_plugin'], allow_failed_imports=False)

# Folder holding leftImg8bit/ and gtBboxCityPersons/ (Cityscapes' leftImg8bit_trainvaltest.zip
# and gtBbox_cityPersons_trainval.zip unpacked). Copied into the datasets below when the
# config is read: set it through the environment, not --cfg-options.
citypersons_root = '{{$CITYPERSONS_ROOT:data/citypersons/}}'

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

# pedestrian -> person; rider, sitting person, person (other), person group, ignore -> ignore
# regions. Boxes clipped to the image in training, kept as annotated in test mode (what the
# official script scores). val is the test split of papers (test annotations are withheld).
citypersons_train = dict(
    type='CityPersonsDataset',
    data_root=citypersons_root,
    split='train',
    filter_cfg=dict(filter_empty_gt=True, min_size=32),
    pipeline=train_pipeline)
citypersons_test = dict(
    type='CityPersonsDataset',
    data_root=citypersons_root,
    split='val',
    test_mode=True,
    pipeline=test_pipeline)

train_dataloader = dict(
    num_workers=4,
    persistent_workers=True,
    dataset=dict(_delete_=True, type='RepeatDataset', times=1, dataset=citypersons_train))
val_dataloader = dict(dataset=dict(_delete_=True, **citypersons_test))
test_dataloader = val_dataloader

# The official protocol of cvgroup-njust/CityPersons (eval_MR_multisetup.py): MR-2 on
# Reasonable, Small, Heavy and All.
val_evaluator = [dict(type='CityPersonsMetric')]
test_evaluator = val_evaluator
