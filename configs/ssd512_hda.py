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
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='HDADataset',
        data_root=data_root,
        cameras=val_cameras,
        frame_step=val_frame_step,
        test_mode=True,
        pipeline={{_base_.test_pipeline}}))
test_dataloader = val_dataloader

# The HDA benchmark's log-average miss rate (hda/MR-2, overall and per camera; boxes set to
# the benchmark's aspect ratio 0.41 before matching, ignore regions by intersection over
# the detection), and person AP as VOC computes it (mmdet's VOCMetric, overall and per
# camera): area and the VOC07 11-point variant.
val_evaluator = [
    dict(type='MissRateMetric', aspect_ratio=0.41, prefix='hda'),
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
