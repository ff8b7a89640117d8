# SSD-512 on HDA fine-tuned from a VOC-trained MMDetection SSD-512
# (configs/pascal_voc/ssd512_voc0712.py), its person classifier kept:
#
#   python tools/model_converters/ssd_to_person.py ssd512_voc0712.pth \
#       checkpoints/ssd512_voc_person.pth --source voc
#   HDA_ROOT=/data/HDA_Dataset_V1.3 SSD_PERSON_WEIGHTS=checkpoints/ssd512_voc_person.pth \
#       tools/dist_train.sh configs/ssd512_hda_from-voc.py 4
#
# The VOC model's anchors start at 0.15 of the input (ssd512_voc0712.py), not COCO's 0.1:
# the box regression it learnt is relative to those anchors, so they are kept.
_base_ = './ssd512_hda.py'

load_from = '{{$SSD_PERSON_WEIGHTS:checkpoints/ssd512_voc_person.pth}}'

model = dict(
    backbone=dict(init_cfg=None),
    bbox_head=dict(anchor_generator=dict(basesize_ratio_range=(0.15, 0.9))))
