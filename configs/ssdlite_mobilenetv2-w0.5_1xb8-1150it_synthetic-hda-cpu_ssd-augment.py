# The CPU demo trained with SSD's own augmentation in place of its relative crop: Expand
# (ratio 1-4), MinIoURandomCrop, Resize to the 320x224 input, RandomFlip and the colour
# jitter, as hda-ssd's SSDRandomCropResize / PhotoMetricDistortionLUT (the HDA configs'
# default) or, with the switch below, MMDetection's own transforms. Held-out AP50 of both,
# same seed: docs/demo.md.
#
#   python tools/demo.py --config configs/ssdlite_mobilenetv2-w0.5_1xb8-1150it_synthetic-hda-cpu_ssd-augment.py
#   ... --cfg-options train_dataloader.dataset.dataset.pipeline.SSDRandomCropResize.impl=stock \
#       train_dataloader.dataset.dataset.pipeline.PhotoMetricDistortionLUT.type=PhotoMetricDistortion
_base_ = './ssdlite_mobilenetv2-w0.5_1xb8-1150it_synthetic-hda-cpu.py'

train_pipeline = [
    dict(type='LoadImageFast', defer_decode=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='SSDRandomCropResize',
        scale={{_base_.input_scale}},
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
train_dataloader = dict(dataset=dict(dataset=dict(pipeline=train_pipeline)))
