# The HDA data set in place of COCO: local paths, the camera-disjoint split, dataloaders.
# Applied on top of the model config named in _base_ (its train pipeline's augmentation done
# by hda-ssd's faster transforms, below);
# configs/_base_/hda_runtime.py adds evaluators and diagnostics on top of this.
_base_ = 'mmdet::ssd/ssd512_coco.py'

custom_imports = dict(imports=['hda_plugin'], allow_failed_imports=False)

# HDA release root holding hda_annotations/ and hda_frames/ (run
# tools/dataset_converters/hda_seq_to_frames.py on it once). Copied into the datasets below
# when the config is read: set it through the environment, not --cfg-options.
data_root = '{{$HDA_ROOT:data/HDA_Dataset_V1.3/}}'

# Camera-disjoint split; 02, the omni view, is left out as in the HDA benchmark.
train_cameras = [17, 18, 40, 50, 53, 56, 57, 59]
val_cameras = [19, 54, 58, 60]
# HDA records at 5 fps; neighbouring frames are near-duplicates.
train_frame_step = 5
val_frame_step = 1

# SSD's augmentation of mmdet::ssd/ssd512_coco.py (Expand ratio 1-4, MinIoURandomCrop,
# Resize, RandomFlip, PhotoMetricDistortion) with the same distribution, several times
# cheaper per core (docs/benchmarks.md): JPEG decoding by libjpeg-turbo, deferred to the
# crop so it can decode at 1/2-1/8 in the DCT domain; Expand + MinIoURandomCrop + Resize +
# RandomFlip as one warp; the colour jitter on uint8 lookup tables. MMDetection's own:
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
train_dataloader = dict(
    # 4 workers per GPU: ~10 ms an image per worker at 1280x800 keeps ahead of an SSD-512
    # step of 8 images (the stock chain needed ~60 ms an image, dozens of cores per GPU)
    num_workers=4,
    persistent_workers=True,
    dataset=dict(
        _delete_=True,
        type='RepeatDataset',
        times=1,
        dataset=dict(
            type='HDADataset',
            data_root=data_root,
            cameras=train_cameras,
            frame_step=train_frame_step,
            filter_cfg=dict(filter_empty_gt=True, min_size=32),
            pipeline=train_pipeline)))
# The model's test pipeline with two HDA steps: LoadHDAAnnotations/PackHDADetInputs also
# carry each person's visible fraction (vbb posv) to CaltechMetric's Occ settings.
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args={{_base_.backend_args}}),
    dict(type='Resize', scale=(512, 512), keep_ratio=False),
    dict(type='LoadHDAAnnotations', with_bbox=True),
    dict(type='PackHDADetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='HDADataset',
        data_root=data_root,
        cameras=val_cameras,
        frame_step=val_frame_step,
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
