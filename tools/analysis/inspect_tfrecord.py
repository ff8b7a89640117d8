"""The 30-second check of SSD-Tensorflow TFRecord shards (no TensorFlow needed).

    python tools/analysis/inspect_tfrecord.py 'data/hda_tfrecords/hda_train_*.tfrecord' \
        [--num-classes 2] [--json]

Reports shards and records, label ids and texts with box counts, box sizes in pixels,
out-of-range and degenerate boxes, declared vs real image format and size, and CRC
errors (the scan goes on past a bad record while the framing allows). With
``--num-classes N`` (SSD-Tensorflow's convention, background included) it flags label ids
>= N: SSD-Tensorflow drops those boxes without a word, which is how an HDA training
scored mAP = 0. Exit status 1 when it finds a problem that would spoil training.
"""
import argparse
import glob
import json
import os
import sys
from collections import Counter

import numpy as np
from tqdm import tqdm

from hda_plugin.fileio.tf_example import (
    image_format_from_bytes,
    image_size_from_bytes,
    parse_ssd_example,
)
from hda_plugin.fileio.tfrecord import iter_records


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('pattern', help="shard glob, quoted: 'dir/hda_train_*.tfrecord'")
    p.add_argument('--num-classes', type=int,
                   help='the num_classes a SSD-Tensorflow run used (background included)')
    p.add_argument('--json', action='store_true', help='print one JSON object instead')
    return p.parse_args()


def scan_shard(path, stats, progress):
    """Scans one shard with the dataset's own framing parser, reporting instead of raising."""
    n = 0
    for rec in iter_records(path, strict=False):
        if rec.error is not None:
            stats['errors'].append(str(rec.error) + ('' if not rec.error.fatal else
                                                     ' The rest of the shard is unreadable.'))
            if rec.error.fatal:
                break
            stats['crc_errors'] += 1
        else:
            inspect_record(path, rec.index, rec.data, stats)
        n += 1
        progress.update(1)
    return n


def inspect_record(path, n, data, stats):
    try:
        ex = parse_ssd_example(data)
        real = image_format_from_bytes(ex['image'])
        w, h = image_size_from_bytes(ex['image'])
    except Exception as e:  # report and go on
        stats['errors'].append(f'{path}: record {n}: unreadable example or image ({e})')
        return
    stats['records'] += 1
    stats['formats'][f'{ex["format"] or "?"} -> {real}'] += 1
    stats['sizes'][f'{w}x{h}'] += 1
    if tuple(ex['shape'][:2]) != (h, w):
        stats['shape_mismatch'] += 1
        if len(stats['shape_examples']) < 5:
            stats['shape_examples'].append(f'{os.path.basename(path)}#{n}: image/shape '
                                           f'{ex["shape"][:2]} vs image {h}x{w}')
    if not len(ex['boxes']):
        stats['records_without_boxes'] += 1
    texts = ex['texts'] + [''] * (len(ex['boxes']) - len(ex['texts']))
    for (ymin, xmin, ymax, xmax), lab, txt, diff in zip(ex['boxes'], ex['labels'], texts,
                                                         ex['difficult']):
        stats['labels'][f'{lab}:{txt}'] += 1
        stats['boxes'] += 1
        stats['difficult'] += int(bool(diff))
        if min(ymin, xmin) < 0 or max(ymax, xmax) > 1:
            stats['out_of_range'] += 1
        if ymax <= ymin or xmax <= xmin:
            stats['degenerate'] += 1
        stats['heights'].append((ymax - ymin) * h)
        stats['widths'].append((xmax - xmin) * w)


def main():
    args = parse_args()
    shards = sorted(p for p in glob.glob(args.pattern) if not p.endswith('.hdaidx.npz'))
    if not shards:
        print(f'No shard matches {args.pattern}', file=sys.stderr)
        sys.exit(2)
    stats = dict(records=0, boxes=0, crc_errors=0, shape_mismatch=0, out_of_range=0,
                 degenerate=0, difficult=0, records_without_boxes=0, errors=[],
                 labels=Counter(), formats=Counter(), sizes=Counter(), shape_examples=[],
                 heights=[], widths=[])
    per_shard = {}
    with tqdm(desc='records', unit='rec', disable=args.json, file=sys.stderr) as bar:
        for s in shards:
            per_shard[s] = scan_shard(s, stats, bar)
    hs, ws = np.asarray(stats.pop('heights')), np.asarray(stats.pop('widths'))
    pct = [0, 5, 25, 50, 75, 95, 100]
    report = dict(
        pattern=args.pattern, shards={os.path.basename(k): v for k, v in per_shard.items()},
        **{k: (dict(v) if isinstance(v, Counter) else v) for k, v in stats.items()},
        box_height_px={f'p{p}': round(float(np.percentile(hs, p)), 1) for p in pct}
        if len(hs) else {},
        box_width_px={f'p{p}': round(float(np.percentile(ws, p)), 1) for p in pct}
        if len(ws) else {})
    problems = list(stats['errors'])
    if args.num_classes is not None:
        bad = {k: v for k, v in stats['labels'].items()
               if not 0 < int(k.split(':')[0]) < args.num_classes}
        report['labels_outside_num_classes'] = bad
        if bad:
            problems.append(
                f'label ids {sorted({int(k.split(":")[0]) for k in bad})} are outside 1..'
                f'{args.num_classes - 1}: with --num_classes={args.num_classes} SSD-Tensorflow '
                f'silently drops these {sum(bad.values())} boxes. Re-write the shards with the '
                'ids you train on, or read them with hda-ssd (label_text mapping).')
    if stats['boxes'] == 0:
        problems.append('no box at all in these shards')
    report['problems'] = problems
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print(f'\n{args.pattern}: {stats["records"]} readable records in {len(shards)} shard(s), '
              f'{stats["boxes"]} boxes, {stats["records_without_boxes"]} records without boxes')
        print('label id:text -> boxes: ' + ', '.join(
            f'{k} -> {v}' for k, v in sorted(stats['labels'].items())))
        print('box height px ' + ' '.join(f'{k}={v}' for k, v in report['box_height_px'].items()))
        print('box width  px ' + ' '.join(f'{k}={v}' for k, v in report['box_width_px'].items()))
        print(f'out of [0, 1]: {stats["out_of_range"]}, degenerate: {stats["degenerate"]}, '
              f'difficult: {stats["difficult"]}')
        print('format declared -> real: ' + ', '.join(
            f'{k}: {v}' for k, v in sorted(stats['formats'].items())))
        print('image sizes: ' + ', '.join(f'{k}: {v}' for k, v in stats['sizes'].most_common(6)))
        print(f'image/shape disagreeing with the image: {stats["shape_mismatch"]} '
              + ('; '.join(stats['shape_examples'])))
        print(f'CRC errors: {stats["crc_errors"]}')
        for p in problems:
            print('PROBLEM:', p)
        print('verdict:', 'problems found' if problems else 'no problem found')
    sys.exit(1 if problems else 0)


if __name__ == '__main__':
    main()
