# SSD-512 (VGG16) person detector on HDA, trained with MMDetection's stock SSD-512 recipe.
#
#   HDA_ROOT=/data/HDA_Dataset_V1.3 VGG16_WEIGHTS=/models/vgg16_caffe-292e1171.pth \
#       tools/dist_train.sh configs/ssd512_hda.py 4
#
# (data_root and backbone_weights are copied into the dicts below when the config is read,
# so they are set through the environment, not --cfg-options.)
#
# Only what HDA needs differs from mmdet::ssd/ssd512_coco.py: one class (person), the HDA
# data set with a camera-disjoint split, ignore regions honoured by the assigner, VOC AP
# on person, and every weight file taken from a local path (nothing is downloaded).
_base_ = 'mmdet::ssd/ssd512_coco.py'

custom_imports = dict(imports=['hda_plugin'], allow_failed_imports=False)

# --- local paths ------------------------------------------------------------------------
# HDA release root holding hda_annotations/ and hda_frames/ (run
# tools/dataset_converters/hda_seq_to_frames.py on it once).
data_root = '{{$HDA_ROOT:data/HDA_Dataset_V1.3/}}'
# MMDetection's caffe VGG16 (the file behind open-mmlab://vgg16_caffe, vgg16_caffe-292e1171.pth)
# as a local file; it already holds conv6/conv7 and goes with the stock normalisation below
# (RGB, mean 123.675/116.28/103.53, std 1). Other VGG16 files: configs/ssd512_hda_tfslim-vgg16.py,
# configs/ssd512_hda_torchvision-vgg16.py. Without a file SSD-512 from a random VGG diverges.
backbone_weights = '{{$VGG16_WEIGHTS:checkpoints/vgg16_caffe-292e1171.pth}}'

# --- camera split (camera-disjoint; 02, the omni view, is left out as in the HDA
# benchmark) -------------------------------------------------------------------------------
train_cameras = [17, 18, 40, 50, 53, 56, 57, 59]
val_cameras = [19, 54, 58, 60]
# HDA records at 5 fps; neighbouring frames are near-duplicates.
train_frame_step = 5
val_frame_step = 1

model = dict(
    backbone=dict(
        init_cfg=dict(type='Pretrained', checkpoint=backbone_weights)
        if backbone_weights else None),
    bbox_head=dict(num_classes=1),
    # crowd / personUnk regions: anchors inside them are neither positives nor negatives.
    train_cfg=dict(assigner=dict(ignore_iof_thr=0.5)))

train_dataloader = dict(
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
            pipeline={{_base_.train_pipeline}})))
# The base's test pipeline with two HDA steps: LoadHDAAnnotations/PackHDADetInputs also
# carry each person's visible fraction (vbb posv) to MissRateMetric's Occ settings.
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

# Log-average miss rate in two named protocols (hda_plugin/evaluation/protocols.py):
# - hda/MR-2, hda/MR-2_cam60: the HDA benchmark's dbEval.m rule for rule (ground truth from
#   hda_detections/GtAnnotationsAll, detections >= 40 px, aspect 0.41, every frame, cameras
#   but 02 pooled): the figure that compares with the published ACF 65 % / 62 %;
# - caltech/<setting>/MR-2 and MR-4: Dollár's settings on the vbb annotations (crowd,
#   personUnk, hidden as ignore regions), overall and per camera.
# Then person AP as VOC computes it (mmdet's VOCMetric, overall and per camera).
val_evaluator = [
    dict(type='MissRateMetric', protocol='hda-benchmark'),  # data_root: the test set's
    dict(type='MissRateMetric', protocol='caltech', aspect_ratio=0.41,
         settings=['Reasonable', 'All', 'Scale=near', 'Scale=medium', 'Scale=far',
                   'Occ=none', 'Occ=partial', 'Occ=heavy']),
    dict(type='CameraVOCMetric', metric='mAP', eval_mode='area', prefix='voc'),
    dict(type='CameraVOCMetric', metric='mAP', eval_mode='11points', prefix='voc11'),
]
test_evaluator = val_evaluator

# SSD's own hooks, restated because lists replace the base's whole, then hda_plugin's
# diagnostics (hda_plugin/engine/hooks). Turn one off with
# --cfg-options custom_hooks.<index>.enabled=False (indices as listed here).
custom_hooks = [
    dict(type='NumClassCheckHook'),  # 0
    dict(type='CheckInvalidLossHook', interval=50, priority='VERY_LOW'),  # 1
    # 2: labels in range, class histogram, empty images, bad boxes; stops on no usable GT
    dict(type='DatasetSanityHook', enabled=True),
    # 3: best-anchor IoU of the training boxes at the input size, by box height
    dict(type='AnchorCoverageHook', enabled=True, max_images=1000, warn_below=0.5,
         error_below=0.2),
    # 4: positive anchors per image and GT matched, logged; stops after `patience`
    # iterations without a positive anchor
    dict(type='PositiveAnchorHook', enabled=True, patience=20),
    # 5: weight/gradient norms and update ratios per layer group; collapse, dead layers,
    # exploding gradients; names the first non-finite layer on a NaN/Inf loss
    dict(type='WeightHealthHook', enabled=True, interval=50),
    # 6: a report when AP or recall is 0 after validation or testing
    dict(type='ZeroAPDiagnosisHook', enabled=True, threshold=0.0),
    # 7: the backbone really holds the pretrained weights after loading (MMEngine loads
    # with strict=False), and their input normalisation matches data_preprocessor
    dict(type='PretrainedWeightsHook', enabled=True, min_share=0.5),
]
