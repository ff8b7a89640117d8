# SSD-512 on HDA from torchvision's ImageNet VGG16 (vgg16-397923af.pth).
#
#   python tools/model_converters/torchvision_vgg16_to_mmdet.py vgg16-397923af.pth \
#       checkpoints/vgg16_torchvision_ssd.pth --fc-reduce
#   HDA_ROOT=/data/HDA_Dataset_V1.3 VGG16_WEIGHTS=checkpoints/vgg16_torchvision_ssd.pth \
#       tools/dist_train.sh configs/ssd512_hda_torchvision-vgg16.py 4
#
# The input normalisation is torchvision's: RGB scaled to [0, 1], minus 0.485/0.456/0.406,
# divided by 0.229/0.224/0.225; here in 0-255 units.
_base_ = './ssd512_hda.py'

backbone_weights = '{{$VGG16_WEIGHTS:checkpoints/vgg16_torchvision_ssd.pth}}'

model = dict(
    data_preprocessor=dict(
        mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
    backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=backbone_weights)))
