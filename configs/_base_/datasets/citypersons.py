# The CityPersons data set in place of COCO: local paths, train/val splits, dataloaders and
# the official evaluation (docs/datasets.md, CityPersons). Loads alone, with SSD's
# pipelines of person_pipelines.py.
_base_ = './person_pipelines.py'

# Folder holding leftImg8bit/ and gtBboxCityPersons/ (Cityscapes' leftImg8bit_trainvaltest.zip
# and gtBbox_cityPersons_trainval.zip unpacked). Copied into the datasets below when the
# config is read: set it through the environment, not --cfg-options.
citypersons_root = '{{$CITYPERSONS_ROOT:data/citypersons/}}'

# pedestrian -> person; rider, sitting person, person (other), person group, ignore -> ignore
# regions. Boxes clipped to the image in training, kept as annotated in test mode (what the
# official script scores). val is the test split of papers (test annotations are withheld).
citypersons_train = dict(
    type='CityPersonsDataset',
    data_root=citypersons_root,
    split='train',
    filter_cfg=dict(filter_empty_gt=True, min_size=32),
    pipeline={{_base_.train_pipeline}})
citypersons_test = dict(
    type='CityPersonsDataset',
    data_root=citypersons_root,
    split='val',
    test_mode=True,
    pipeline={{_base_.test_pipeline}})

train_dataloader = dict(
    num_workers=4,
    persistent_workers=True,
    dataset=dict(_delete_=True, type='RepeatDataset', times=1, dataset=citypersons_train))
val_dataloader = dict(dataset=dict(_delete_=True, **citypersons_test))
test_dataloader = val_dataloader

# The official protocol of cvgroup-njust/CityPersons (eval_MR_multisetup.py): MR-2 on
# Reasonable, Small, Heavy and All.
val_evaluator = [dict(type='CityPersonsMetric')]
test_evaluator = val_evaluator
