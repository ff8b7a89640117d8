# The HDA data set in place of COCO: local paths, the camera-disjoint split, dataloaders.
# Applied on top of the model config named in _base_ (its train_pipeline is used as it is);
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
# The model's test pipeline with two HDA steps: LoadHDAAnnotations/PackHDADetInputs also
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
