# Evaluation and diagnostics of every HDA config, on top of the HDA data set.
_base_ = './datasets/hda.py'

# Log-average miss rate in two named protocols (hda_plugin/evaluation/protocols.py):
# - hda/MR-2, hda/MR-2_cam60: the HDA benchmark's dbEval.m rule for rule (ground truth from
#   hda_detections/GtAnnotationsAll, detections >= 40 px, aspect 0.41, every frame, cameras
#   but 02 pooled): the figure that compares with the published ACF 65 % / 62 %;
# - caltech/<setting>/MR-2 and MR-4: Dollár's settings on the vbb annotations (crowd,
#   personUnk, hidden as ignore regions), overall and per camera.
# Then person AP as VOC computes it (mmdet's VOCMetric, overall and per camera).
val_evaluator = [
    dict(type='HDABenchmarkMetric'),  # dbEval.m's fixed rules; data_root: the test set's
    dict(type='CaltechMetric', aspect_ratio=0.41,
         settings=['Reasonable', 'All', 'Scale=near', 'Scale=medium', 'Scale=far',
                   'Occ=none', 'Occ=partial', 'Occ=heavy']),
    dict(type='CameraVOCMetric', metric='mAP', eval_mode='area', prefix='voc'),
    dict(type='CameraVOCMetric', metric='mAP', eval_mode='11points', prefix='voc11'),
]
test_evaluator = val_evaluator

# Crash-safe training state (hda_plugin/engine; docs/reliability.md): checkpoints written
# atomically, the oldest removed only after the new one and last_checkpoint are written,
# and --resume continuing from the newest complete checkpoint (mmengine 0.10.7's
# CheckpointHook and auto-resume are not, docs/upstream_defects.md).
default_hooks = dict(checkpoint=dict(type='CrashSafeCheckpointHook'))
runner_type = 'CrashSafeRunner'

# SSD's NumClassCheckHook, then hda_plugin's diagnostics (hda_plugin/engine/hooks); a list
# replaces the base's whole. Address one by its type, whatever its place in the list:
#   --cfg-options custom_hooks.WeightHealthHook.enabled=False
#   --cfg-options custom_hooks.PositiveAnchorHook.patience=5
custom_hooks = [
    dict(type='NumClassCheckHook'),
    # labels in range, class histogram, empty images, bad boxes; stops on no usable GT
    dict(type='DatasetSanityHook', enabled=True),
    # best-anchor IoU of the training boxes at the input size, by box height
    dict(type='AnchorCoverageHook', enabled=True, max_images=1000, warn_below=0.5,
         error_below=0.2),
    # positive anchors per image and GT matched, logged; stops after `patience`
    # iterations without a positive anchor
    dict(type='PositiveAnchorHook', enabled=True, patience=20),
    # every iteration: a NaN/Inf loss or gradient stops training, naming the first layer
    # whose output went non-finite (in place of mmdet's CheckInvalidLossHook)
    dict(type='NonFiniteLossHook', enabled=True),
    # the loss climbing away from its best, with the layers whose gradients grew most
    dict(type='DivergenceHook', enabled=True),
    # weight/gradient norms and update ratios per layer group; collapse, dead layers,
    # exploding gradients
    dict(type='WeightHealthHook', enabled=True, interval=50),
    # a report when AP or recall is 0 after validation or testing
    dict(type='ZeroAPDiagnosisHook', enabled=True, threshold=0.0),
    # the backbone really holds the pretrained weights after loading (MMEngine loads
    # with strict=False), and their input normalisation matches data_preprocessor
    dict(type='PretrainedWeightsHook', enabled=True, min_share=0.5),
]
