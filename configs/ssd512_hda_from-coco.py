# SSD-512 on HDA fine-tuned from a COCO-trained MMDetection SSD-512 (e.g. the model zoo's
# ssd512_coco_20210803_022849-0a47a1ca.pth), its person classifier kept:
#
#   python tools/model_converters/ssd_to_person.py ssd512_coco_20210803_022849-0a47a1ca.pth \
#       checkpoints/ssd512_coco_person.pth --source coco
#   HDA_ROOT=/data/HDA_Dataset_V1.3 SSD_PERSON_WEIGHTS=checkpoints/ssd512_coco_person.pth \
#       tools/dist_train.sh configs/ssd512_hda_from-coco.py 4
#
# Backbone, neck, box regression and the person-vs-background classifier all start from
# the COCO model, so no VGG16 file is needed. Anchors and normalisation are
# ssd512_coco.py's, which this config inherits unchanged.
_base_ = './ssd512_hda.py'

load_from = '{{$SSD_PERSON_WEIGHTS:checkpoints/ssd512_coco_person.pth}}'

model = dict(backbone=dict(init_cfg=None))
