# SSD-512 (VGG16) person detector on HDA, trained with MMDetection's stock SSD-512 recipe.
#
#   HDA_ROOT=/data/HDA_Dataset_V1.3 VGG16_WEIGHTS=/models/vgg16_caffe-292e1171.pth \
#       tools/dist_train.sh configs/ssd512_hda.py 4
#
# mmdet::ssd/ssd512_coco.py, with (in order of inheritance, each file one job):
#   _base_/datasets/hda.py   the HDA data set: paths, camera-disjoint split, dataloaders
#   _base_/hda_runtime.py    evaluators (HDA benchmark, Dollár settings, VOC AP), diagnostics,
#                            crash-safe checkpoints and resume
#   this file                the model delta: one class (person), ignore regions honoured by
#                            the assigner, the VGG16 weights from a local path
# (data_root and backbone_weights are copied into the dicts when the config is read, so they
# are set through the environment, not --cfg-options.)
_base_ = './_base_/hda_runtime.py'

# MMDetection's caffe VGG16 (the file behind open-mmlab://vgg16_caffe, vgg16_caffe-292e1171.pth)
# as a local file; it already holds conv6/conv7 and goes with the stock normalisation below
# (RGB, mean 123.675/116.28/103.53, std 1). Other VGG16 files: configs/ssd512_hda_tfslim-vgg16.py,
# configs/ssd512_hda_torchvision-vgg16.py. Without a file SSD-512 from a random VGG diverges.
backbone_weights = '{{$VGG16_WEIGHTS:checkpoints/vgg16_caffe-292e1171.pth}}'

model = dict(
    backbone=dict(
        init_cfg=dict(type='Pretrained', checkpoint=backbone_weights)
        if backbone_weights else None),
    # mmdet 3.3.0's SSDHead cannot predict (no loss_cls, open-mmlab/mmdetection#11063):
    # the same head, same parameters, with the attribute (hda_plugin/models/dense_heads).
    bbox_head=dict(type='PredictableSSDHead', num_classes=1),
    # crowd / personUnk regions: anchors inside them are neither positives nor negatives.
    train_cfg=dict(assigner=dict(ignore_iof_thr=0.5)))
