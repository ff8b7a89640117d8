# SSD's data pipelines for every person data set of hda-ssd (HDA, Caltech, CityPersons,
# CrowdHuman, INRIA), at the input size of the model config named in _base_. Each data set
# base (hda.py, caltech.py, ...) sits on this file and names these two pipelines.
_base_ = 'mmdet::ssd/ssd512_coco.py'

custom_imports = dict(imports=['hda_plugin'], allow_failed_imports=False)

# SSD's augmentation of mmdet::ssd/ssd512_coco.py (Expand ratio 1-4, MinIoURandomCrop,
# Resize, RandomFlip, PhotoMetricDistortion) with the same distribution, several times
# cheaper per core (docs/benchmarks.md): JPEG decoding by libjpeg-turbo, deferred to the
# crop so it can decode at 1/2-1/8 in the DCT domain; Expand + MinIoURandomCrop + Resize +
# RandomFlip as one warp; the colour jitter on uint8 lookup tables. LoadImageFast reads image
# files and frames of .seq videos (a data info's seq_frame: Caltech). MMDetection's own:
#   --cfg-options train_dataloader.dataset.dataset.pipeline.SSDRandomCropResize.impl=stock
# (and ...pipeline.PhotoMetricDistortionLUT.type=PhotoMetricDistortion for its float jitter).
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
# The model's test pipeline with two person-set steps: LoadHDAAnnotations/PackHDADetInputs
# also carry each person's visible fraction (to the Occ/Reasonable/Heavy settings) and the
# sample's camera/group and frame (to per-group metrics and the HDA benchmark).
test_pipeline = [
    dict(type='LoadImageFast', backend_args={{_base_.backend_args}}),
    dict(type='Resize', scale=({{_base_.input_size}}, {{_base_.input_size}}), keep_ratio=False),
    dict(type='LoadHDAAnnotations', with_bbox=True),
    dict(type='PackHDADetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
