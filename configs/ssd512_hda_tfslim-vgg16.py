# SSD-512 on HDA from the TF-slim ImageNet VGG16 (the vgg_16.ckpt used with SSD-Tensorflow).
#
#   python tools/model_converters/tfslim_vgg16_to_mmdet.py vgg_16.ckpt \
#       checkpoints/vgg16_tfslim_ssd.pth --fc-reduce
#   HDA_ROOT=/data/HDA_Dataset_V1.3 VGG16_WEIGHTS=checkpoints/vgg16_tfslim_ssd.pth \
#       tools/dist_train.sh configs/ssd512_hda_tfslim-vgg16.py 4
#
# The input normalisation is TF-slim's VGG preprocessing (preprocessing/vgg_preprocessing.py):
# RGB, minus the means 123.68/116.78/103.94, no division. The base's Expand still fills
# with MMDetection's means (at most 0.4 grey levels apart).
_base_ = './ssd512_hda.py'

backbone_weights = '{{$VGG16_WEIGHTS:checkpoints/vgg16_tfslim_ssd.pth}}'

model = dict(
    data_preprocessor=dict(mean=[123.68, 116.78, 103.94], std=[1, 1, 1], bgr_to_rgb=True),
    backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=backbone_weights)))
