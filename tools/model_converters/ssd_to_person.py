"""Cut a COCO- or VOC-trained MMDetection SSD checkpoint to a 1-class person detector.

    python tools/model_converters/ssd_to_person.py ssd512_coco.pth \\
        checkpoints/ssd512_coco_person.pth --source coco

Backbone, neck and box regression are kept. Each level's classifier keeps, for every
anchor, the source's person channel (COCO class 0 of 80, VOC class 14 of 20 in
MMDetection's numbering) and its background channel (the last): the new model's person
score is the source's person-vs-background softmax. Fine-tune with
configs/ssd512_hda_from-coco.py or configs/ssd512_hda_from-voc.py (the VOC model's
anchors differ), e.g. SSD_PERSON_WEIGHTS=checkpoints/ssd512_coco_person.pth.
"""
import argparse
import sys

import torch

from hda_plugin.utils import format_table
from hda_plugin.weights import load_state_dict_file, person_head_from_detector
from hda_plugin.weights.ssd_person import PERSON_SOURCES
from hda_plugin.weights.vgg_weights import NORMALISATION


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog='\n'.join(__doc__.split('\n')[2:]))
    p.add_argument('src', help='MMDetection SSD checkpoint (.pth)')
    p.add_argument('out', help='output checkpoint, for load_from')
    p.add_argument('--source', required=True, choices=sorted(PERSON_SOURCES),
                   help='data set the checkpoint was trained on')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    state, meta = load_state_dict_file(args.src)
    spec = PERSON_SOURCES[args.source]
    classes = (meta.get('dataset_meta') or {}).get('classes')
    if classes is not None and (len(classes) != spec['num_classes']
                                or classes[spec['person']] != 'person'):
        print(f'error: {args.src}: its dataset_meta lists {len(classes)} classes with '
              f'{classes[spec["person"]] if len(classes) > spec["person"] else None!r} at '
              f'index {spec["person"]}; --source {args.source} expects '
              f'{spec["num_classes"]} classes with person at {spec["person"]}',
              file=sys.stderr)
        return 1
    try:
        new_state, rows = person_head_from_detector(state, args.source, path=args.src)
    except ValueError as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    kept = sum(1 for k in new_state if not k.startswith('bbox_head.cls_convs'))
    meta = dict(dataset_meta=dict(classes=('person', )),
                input_normalisation=NORMALISATION['mmdet-ssd'],
                converted_from=args.src, person_source=args.source,
                source_classes=spec['num_classes'], source_person_index=spec['person'])
    torch.save(dict(state_dict=new_state, meta=meta), args.out)
    print('\n'.join(format_table(('classifier', 'source shape', 'person shape', 'anchors'),
                                 rows, align='llll')))
    print(f'{len(rows)} classifiers cut to (person, background) from {args.source.upper()} '
          f'class {spec["person"]} and background channel {spec["num_classes"]}; '
          f'{kept} other tensors (backbone, neck, box regression) kept unchanged')
    print(f'saved {args.out}: fine-tune with configs/ssd512_hda_from-{args.source}.py '
          f'(SSD_PERSON_WEIGHTS={args.out})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
