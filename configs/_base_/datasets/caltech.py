# The Caltech Pedestrian data set in place of COCO: the release as distributed (frames read
# straight from setXX/VYYY.seq, boxes from annotations/setXX/VYYY.vbb), dataloaders and
# Dollár's Caltech evaluation (dbEval.m, UsaTest). Loads alone, with SSD's
# pipelines of person_pipelines.py (LoadImageFast reads each frame's JPEG from its .seq).
_base_ = './person_pipelines.py'

# The folder holding set00/ .. set10/ (the untarred setXX.tar) and annotations/ (the
# unzipped annotations.zip). Copied into the datasets below when the config is read: set it
# through the environment, not --cfg-options.
caltech_root = '{{$CALTECH_ROOT:data/caltech/}}'

# Train: "Caltech10x", set00-set05, every 3rd frame from the 3rd (0-based 2, 5, ...);
# people, person?, person-fa and ignore are ignore regions.
caltech_train = dict(
    type='CaltechDataset',
    data_root=caltech_root,
    split='train',
    filter_cfg=dict(filter_empty_gt=True, min_size=32),
    pipeline={{_base_.train_pipeline}})
# Test: the standard 4,024 images, set06-set10, every 30th frame from the 30th (0-based 29,
# 59, ...; ids set06_V000_I00029), loaded as Caltech's dbEval.m loads them: labels
# {person, person?, people, ignore}, all but person ignore regions, person-fa left out.
caltech_test = dict(
    type='CaltechDataset',
    data_root=caltech_root,
    split='test',
    ignore_labels=('people', 'person?', 'ignore'),
    drop_labels=('person-fa', ),
    test_mode=True,
    pipeline={{_base_.test_pipeline}})

train_dataloader = dict(
    num_workers=4,
    persistent_workers=True,
    dataset=dict(_delete_=True, type='RepeatDataset', times=1, dataset=caltech_train))
val_dataloader = dict(dataset=dict(caltech_test, _delete_=True))
test_dataloader = val_dataloader

# Dollár's Caltech evaluation (dbEval.m 3.2.1 on UsaTest): the exps table's settings as
# configs/_base_/hda_runtime.py lists them, every regular box at aspect 0.41, and its
# bnds = [5 5 635 475]: persons not wholly inside become ignore regions (filterGtFun);
# detections are not bounded.
val_evaluator = [
    dict(type='CaltechMetric', aspect_ratio=0.41, bounds=(5, 5, 635, 475), per_camera=False,
         settings=['Reasonable', 'All', 'Scale=near', 'Scale=medium', 'Scale=far',
                   'Occ=none', 'Occ=partial', 'Occ=heavy']),
]
test_evaluator = val_evaluator
