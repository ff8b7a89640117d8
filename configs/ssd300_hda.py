# SSD-300 (VGG16) person detector on HDA: ssd512_hda.py with MMDetection's SSD-300
# neck, anchors and input size (mmdet::_base_/models/ssd300.py, mmdet::ssd/ssd300_coco.py).
_base_ = './ssd512_hda.py'

input_size = 300
model = dict(
    neck=dict(
        out_channels=(512, 1024, 512, 256, 256, 256),
        level_strides=(2, 2, 1, 1),
        level_paddings=(1, 1, 0, 0),
        last_kernel_size=3),
    bbox_head=dict(
        in_channels=(512, 1024, 512, 256, 256, 256),
        anchor_generator=dict(
            input_size=input_size,
            basesize_ratio_range=(0.15, 0.9),
            strides=[8, 16, 32, 64, 100, 300],
            ratios=[[2], [2, 3], [2, 3], [2, 3], [2], [2]])))

# the base's train pipeline (configs/_base_/datasets/hda.py) at 300x300
train_pipeline = [
    dict(type='LoadImageFast', defer_decode=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='SSDRandomCropResize',
        scale=(input_size, input_size),
        mean={{_base_.model.data_preprocessor.mean}},
        to_rgb={{_base_.model.data_preprocessor.bgr_to_rgb}},
        ratio_range=(1, 4),
        min_ious=(0.1, 0.3, 0.5, 0.7, 0.9),
        min_crop_size=0.3,
        flip_prob=0.5,  # RandomFlip's, done in the same warp
        impl='fast'),  # 'stock': MMDetection's Expand, MinIoURandomCrop, Resize, RandomFlip
    dict(
        type='PhotoMetricDistortionLUT',
        brightness_delta=32,
        contrast_range=(0.5, 1.5),
        saturation_range=(0.5, 1.5),
        hue_delta=18),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(input_size, input_size), keep_ratio=False),
    dict(type='LoadHDAAnnotations', with_bbox=True),
    dict(type='PackHDADetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
train_dataloader = dict(dataset=dict(dataset=dict(pipeline=train_pipeline)))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
