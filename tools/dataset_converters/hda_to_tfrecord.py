"""Write SSD-Tensorflow-compatible TFRecord shards from an HDA release.

    python tools/dataset_converters/hda_to_tfrecord.py HDA_ROOT --cameras 17 18 50 \
        --out-dir data/hda_tfrecords --name hda_train [--frame-step 5] [--voc-labels]

Schema of SSD-Tensorflow's ``datasets/pascalvoc_to_tfrecords.py`` (200 examples per shard,
``<name>_NNN.tfrecord``): boxes normalised ``[0, 1]``, ``label_text`` ``b'person'``.
``person`` is written as label **1** by default, or **15** (its VOC id) with
``--voc-labels``, as the stock converter does. Ignore regions (``crowd``, ``personUnk``,
hidden) are written as ``difficult=1`` person boxes. Frames' bytes are stored as they are.
"""
import argparse
import os
import os.path as osp

from tfrecord.writer import TFRecordWriter
from tqdm import tqdm

from hda_plugin.datasets import HDADataset
from hda_plugin.fileio.tf_example import ssd_example


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('root', help='HDA release root with hda_annotations/ and hda_frames/')
    p.add_argument('--cameras', type=int, nargs='+', required=True)
    p.add_argument('--out-dir', required=True)
    p.add_argument('--name', default='hda_train', help='shard prefix, e.g. hda_train')
    p.add_argument('--frame-step', type=int, default=1)
    p.add_argument('--shard-size', type=int, default=200, help='examples per shard')
    p.add_argument('--voc-labels', action='store_true',
                   help='write person as VOC id 15 (SSD-Tensorflow stock converter)')
    return p.parse_args()


def to_example(info, data, person_id):
    """An HDADataset data info and its frame bytes as an SSD-Tensorflow example."""
    inst = info['instances']
    return ssd_example(info['width'], info['height'], [i['bbox'] for i in inst],
                       [i['ignore_flag'] for i in inst], data, person_id)


def main():
    args = parse_args()
    ds = HDADataset(data_root=args.root, cameras=args.cameras, frame_step=args.frame_step,
                    test_mode=True)
    os.makedirs(args.out_dir, exist_ok=True)
    person_id = 15 if args.voc_labels else 1
    writer, shard, shards, boxes = None, -1, [], 0
    for i in tqdm(range(len(ds)), desc='records', unit='rec'):
        if i % args.shard_size == 0:
            if writer:
                writer.close()
            shard += 1
            shards.append(osp.join(args.out_dir, f'{args.name}_{shard:03d}.tfrecord'))
            writer = TFRecordWriter(shards[-1])
        info = ds.get_data_info(i)
        with open(info['img_path'], 'rb') as f:
            writer.write(to_example(info, f.read(), person_id))
        boxes += len(info['instances'])
    if writer:
        writer.close()
    print(f'{len(ds)} records, {boxes} boxes (person = label {person_id}, ignore regions as '
          f'difficult=1) in {len(shards)} shard(s): {shards[0]} ... {shards[-1]}')


if __name__ == '__main__':
    main()
