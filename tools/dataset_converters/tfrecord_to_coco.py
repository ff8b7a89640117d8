"""Export SSD-Tensorflow TFRecord shards as image files + a COCO json for stock configs.

    python tools/dataset_converters/tfrecord_to_coco.py 'data/hda_tfrecords/hda_test_*.tfrecord' \
        --out-dir data/hda_coco/test [--label-map 15:person] [--unknown-labels ignore]

Labels are mapped exactly as ``SSDTFRecordDataset`` maps them (by ``label_text`` unless
``--label-map`` is given; unmapped labels are an error unless ``--unknown-labels ignore``).
Images keep their real format (a PNG labelled JPEG is written as .png). Difficult boxes are
written with ``iscrowd=1`` so that COCO evaluation ignores them. Then, in a stock config:
``dataset=dict(type='CocoDataset', data_root=OUT_DIR, ann_file='annotations.json',
data_prefix=dict(img='images/'), metainfo=dict(classes=('person', )))``.
"""
import argparse
import json
import os
import os.path as osp

from mmengine.fileio import get
from tqdm import tqdm

from hda_plugin.datasets import SSDTFRecordDataset
from hda_plugin.fileio.tf_example import image_format_from_bytes


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('pattern', help="shard glob, quoted: 'dir/hda_test_*.tfrecord'")
    p.add_argument('--out-dir', required=True)
    p.add_argument('--label-map', nargs='+', metavar='ID_OR_TEXT:CLASS',
                   help='explicit mapping, e.g. 15:person (default: by label_text)')
    p.add_argument('--unknown-labels', choices=['error', 'ignore'], default='error')
    return p.parse_args()


def parse_label_map(items):
    if not items:
        return None
    out = {}
    for it in items:
        key, _, cls = it.rpartition(':')
        if not key:
            raise ValueError(f'--label-map {it!r}: expected ID_OR_TEXT:CLASS such as 15:person')
        out[int(key) if key.lstrip('-').isdigit() else key] = cls or None
    return out


def main():
    args = parse_args()
    ds = SSDTFRecordDataset(data_root=None, file_pattern=osp.abspath(args.pattern),
                            label_map=parse_label_map(args.label_map),
                            unknown_labels=args.unknown_labels, test_mode=True)
    img_dir = osp.join(args.out_dir, 'images')
    os.makedirs(img_dir, exist_ok=True)
    classes = ds.metainfo['classes']
    coco = dict(images=[], annotations=[],
                categories=[dict(id=i + 1, name=c) for i, c in enumerate(classes)])
    for i in tqdm(range(len(ds)), desc='records', unit='rec'):
        info = ds.get_data_info(i)
        data = get(info['img_path'])
        ext = {'png': 'png', 'jpeg': 'jpg'}.get(image_format_from_bytes(data), 'img')
        name = f'{osp.splitext(info["shard"])[0]}_{info["record"]:05d}.{ext}'
        with open(osp.join(img_dir, name), 'wb') as f:
            f.write(data)
        coco['images'].append(dict(id=i + 1, file_name=name, width=info['width'],
                                   height=info['height']))
        for inst in info['instances']:
            x1, y1, x2, y2 = inst['bbox']
            coco['annotations'].append(dict(
                id=len(coco['annotations']) + 1, image_id=i + 1,
                category_id=inst['bbox_label'] + 1, bbox=[x1, y1, x2 - x1, y2 - y1],
                area=(x2 - x1) * (y2 - y1), iscrowd=int(inst['ignore_flag'])))
    out = osp.join(args.out_dir, 'annotations.json')
    with open(out, 'w') as f:
        json.dump(coco, f)
    print(f'{len(coco["images"])} images in {img_dir}, {len(coco["annotations"])} boxes '
          f'({sum(a["iscrowd"] for a in coco["annotations"])} iscrowd) in {out}')


if __name__ == '__main__':
    main()
