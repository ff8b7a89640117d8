# The HDA benchmark's own setting: a person detector trained on INRIA Person alone, tested on
# HDA (every annotated camera but 02, the omni view) with the hda-benchmark protocol
# (HDABenchmarkMetric: dbEval.m's rules, the cameras pooled). Its hda/MR-2 sits beside the
# release's AcfInria baseline (ACF trained on INRIA): 65 % pooled, 62 % on camera 60
# (docs/datasets.md, INRIA -> HDA, for what is and is not like for like).
#
#   INRIA_ROOT=/data/INRIAPerson VGG16_WEIGHTS=/models/vgg16_caffe-292e1171.pth \
#       tools/dist_train.sh configs/ssd512_inria-to-hda.py 4
#   INRIA_ROOT=/data/INRIAPerson HDA_ROOT=/data/HDA_Dataset_V1.3 \
#       python tools/test.py configs/ssd512_inria-to-hda.py work_dirs/.../epoch_N.pth
#
# Validation and test are separate in MMEngine: val_dataloader + val_evaluator run during
# training (train_cfg.val_interval; checkpoints are judged on them), test_dataloader +
# test_evaluator only in tools/test.py. HDA is the test set here, so it must not be seen
# during training: choosing the epoch, the score threshold or anything else on HDA cameras
# would be selection on the test set. Validation uses INRIA Test (CaltechMetric, Dollár's
# InriaTest rules); the test side is ssd512_hda.py's (its HDA evaluators unchanged) over the
# benchmark's cameras.
_base_ = './ssd512_hda.py'

inria_root = '{{$INRIA_ROOT:data/INRIAPerson/}}'

# Train: INRIA Train, its negatives kept (filter_empty_gt=False).
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='RepeatDataset',
        times=1,
        dataset=dict(type='INRIAPersonDataset', data_root=inria_root, split='Train',
                     filter_cfg=dict(filter_empty_gt=False, min_size=32),
                     pipeline={{_base_.train_pipeline}})))

# Validation during training: INRIA Test, never HDA.
val_dataloader = dict(
    dataset=dict(_delete_=True, type='INRIAPersonDataset', data_root=inria_root,
                 split='Test', test_mode=True, pipeline={{_base_.test_pipeline}}))
val_evaluator = [
    dict(type='CaltechMetric', aspect_ratio=0.41, settings=['Reasonable', 'All']),
]

# Test: the base's HDADataset and evaluators (HDABenchmarkMetric, CaltechMetric's settings,
# VOC AP), over the benchmark's pool: hda_layout.HDA_CAMERAS but
# protocols.HDA_BENCHMARK['excluded_cameras'] (02), every frame.
benchmark_cameras = [17, 18, 19, 40, 50, 53, 54, 56, 57, 58, 59, 60]
test_dataloader = dict(dataset=dict(cameras=benchmark_cameras, frame_step=1))
