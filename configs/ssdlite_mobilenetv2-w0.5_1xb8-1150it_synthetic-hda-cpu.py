# CPU demo: a small SSD (SSDLite head on MobileNetV2 x0.5, from scratch) on the synthetic
# HDA release, trained on some cameras and evaluated on held-out cameras whose scenes it
# never saw. Still SSD's head, anchors, MaxIoU matching and hard negative mining; only the
# backbone, the input size and the schedule are shrunk to fit 2 CPU cores in minutes.
#
#   make demo                      (tools/demo.py: data, training, held-out AP50, images)
#   python tools/train.py configs/ssdlite_mobilenetv2-w0.5_1xb8-1150it_synthetic-hda-cpu.py
_base_ = './ssd512_hda.py'

# The synthetic release tools/demo.py writes; training on the base's training cameras,
# evaluation on held-out cameras whose scenes training never saw.
data_root = '{{$HDA_DEMO_ROOT:data/synthetic_hda/}}'
heldout_cameras = [19, 54, 58]
# Longer side / shorter side of the network input; aspect kept, so people stay 1:2.5.
input_scale = (320, 224)

norm_cfg = dict(type='BN', eps=0.001, momentum=0.03)
model = dict(
    data_preprocessor=dict(std=[58.395, 57.12, 57.375], pad_size_divisor=32),
    backbone=dict(
        _delete_=True,
        type='MobileNetV2',
        widen_factor=0.5,
        out_indices=(2, 4, 7),  # strides 8, 16, 32
        norm_cfg=norm_cfg,
        init_cfg=dict(type='TruncNormal', layer='Conv2d', std=0.03)),
    neck=dict(
        _delete_=True,
        type='SSDNeck',
        in_channels=(16, 48, 1280),
        out_channels=(16, 48, 1280, 256, 128),
        level_strides=(2, 2),
        level_paddings=(1, 1),
        l2_norm_scale=None,
        use_depthwise=True,
        norm_cfg=norm_cfg,
        act_cfg=dict(type='ReLU6'),
        init_cfg=dict(type='TruncNormal', layer='Conv2d', std=0.03)),
    bbox_head=dict(
        type='PredictableSSDHead',  # SSDHead that can predict (configs/ssd512_hda.py)
        in_channels=(16, 48, 1280, 256, 128),
        use_depthwise=True,
        norm_cfg=norm_cfg,
        act_cfg=dict(type='ReLU6'),
        init_cfg=dict(type='Normal', layer='Conv2d', std=0.001),
        # People are 7 px (far, 1280x800 frames) to 110 px tall at this input size.
        anchor_generator=dict(
            _delete_=True,
            type='SSDAnchorGenerator',
            scale_major=False,
            strides=[8, 16, 32, 64, 128],
            ratios=[[2, 3], [2, 3], [2, 3], [2, 3], [2, 3]],
            min_sizes=[10, 22, 44, 80, 130],
            max_sizes=[22, 44, 80, 130, 200])))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    # Zoom-in crops. mmdet's MinIoURandomCrop costs ~25 ms per 1280x800 frame here (a third
    # of an iteration); a plain relative crop costs under 1 ms.
    dict(type='RandomCrop', crop_type='relative_range', crop_size=(0.7, 0.7),
         allow_negative_crop=False),
    dict(type='Resize', scale=input_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='PhotoMetricDistortion',
        brightness_delta=32,
        contrast_range=(0.5, 1.5),
        saturation_range=(0.5, 1.5),
        hue_delta=18),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=input_scale, keep_ratio=True),
    dict(type='LoadHDAAnnotations', with_bbox=True),
    dict(type='PackHDADetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
train_dataloader = dict(
    batch_size=8,
    num_workers=1,
    persistent_workers=True,
    dataset=dict(dataset=dict(data_root=data_root, frame_step=1, pipeline=train_pipeline)))
val_dataloader = dict(
    batch_size=8,
    num_workers=1,
    dataset=dict(data_root=data_root, cameras=heldout_cameras, pipeline=test_pipeline))
test_dataloader = val_dataloader

optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-3, weight_decay=0.05),
    clip_grad=dict(max_norm=10.0))
# The schedule, written out (tools/demo.py does not rewrite it; --cfg-options can).
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=1150, val_interval=1150)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=100, end=1150, eta_min=1e-5),
]
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(by_epoch=False, interval=300, max_keep_ckpts=2))
log_processor = dict(by_epoch=False)
env_cfg = dict(dist_cfg=dict(backend='gloo'))
# Seeded: python, numpy and torch, and each dataloader worker from it (MMEngine), so
# `make demo` repeats its figures on one machine (spread over seeds: docs/demo.md).
randomness = dict(seed=0)
auto_scale_lr = dict(base_batch_size=8)
