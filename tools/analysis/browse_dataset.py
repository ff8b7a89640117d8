"""Draw HDA ground truth and ignore regions, or predictions coloured by outcome, per camera.

    python tools/analysis/browse_dataset.py configs/ssd512_hda.py --split val \
        [--cameras 19 60] [--num 10] --out-dir browse/
    python tools/analysis/browse_dataset.py configs/ssd512_hda.py --results results.pkl \
        [--score-thr 0.3] --out-dir browse/

Without ``--results``: persons green, ignore regions (crowd, personUnk, hidden, ignored
occluded) grey. With ``--results`` (``tools/test.py --out``, the test split), matched as
CaltechMetric matches them: true positives green, false positives red, missed persons
orange, detections inside ignore regions grey. Images go to ``OUT_DIR/<camera>/``; ``--num``
images per camera, spread evenly over its frames.
"""
import argparse
import os
import os.path as osp
from collections import Counter, defaultdict

import cv2
import mmcv
import numpy as np
from tqdm import tqdm

import hda_plugin  # noqa: F401
from hda_plugin.datasets.transforms import LoadImageFast
from hda_plugin.evaluation.results import (
    default_setting,
    evaluate_results,
    load_ground_truth,
    load_results,
    metric_from_config,
)
from hda_plugin.fileio.hda_layout import camera_name
from hda_plugin.utils import format_table
from hda_plugin.utils.cli import add_cfg_options, config_from_args

# BGR
GREEN, RED, ORANGE, GREY, WHITE = (60, 200, 60), (40, 40, 230), (0, 150, 255), (170, 170, 170), \
    (255, 255, 255)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config')
    p.add_argument('--split', choices=['train', 'val', 'test'], default='val')
    p.add_argument('--results', help='tools/test.py --out pickle (uses the test split)')
    p.add_argument('--score-thr', type=float, default=0.3,
                   help='detections drawn from this score (with --results)')
    p.add_argument('--cameras', type=int, nargs='+', help='only these cameras')
    p.add_argument('--num', type=int, default=10, help='images per camera')
    p.add_argument('--out-dir', required=True)
    p.add_argument('--setting', help='caltech setting to match in (default: the config\'s '
                   'first, Reasonable in the HDA configs)')
    add_cfg_options(p)
    args = p.parse_args()
    return args


def box(img, b, color, thickness=2, text=None):
    x1, y1, x2, y2 = (int(round(v)) for v in b)
    cv2.rectangle(img, (x1, y1), (x2, y2), color, thickness)
    if text:
        cv2.putText(img, text, (x1, max(y1 - 3, 10)), cv2.FONT_HERSHEY_SIMPLEX, 0.4, color, 1,
                    cv2.LINE_AA)


def legend(img, items):
    x = 6
    cv2.rectangle(img, (0, 0), (img.shape[1], 20), (0, 0, 0), -1)
    for text, color in items:
        cv2.putText(img, text, (x, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45, color, 1, cv2.LINE_AA)
        x += 10 + 8 * len(text)


def pick(paths, num):
    if len(paths) <= num:
        return paths
    return [paths[int(i)] for i in np.linspace(0, len(paths) - 1, num)]


def main():
    args = parse_args()
    cfg = config_from_args(args)
    split = 'test' if args.results else args.split
    gt = load_ground_truth(cfg, split, None if args.results else args.cameras)
    by_cam = defaultdict(list)
    for key, g in gt.items():
        if not args.cameras or g['camera'] in {camera_name(c) for c in args.cameras}:
            by_cam[g['camera']].append(key)
    if not by_cam:
        raise SystemExit(f'no image of cameras {args.cameras} in the {split} split of '
                         f'{args.config} (it has {sorted({g["camera"] for g in gt.values()})})')
    evaluated = {}
    if args.results:
        results = load_results(args.results)
        metric = metric_from_config(cfg)
        setting = args.setting or default_setting(metric)
        print(f'matched as the caltech protocol, setting {setting or "none"} (persons '
              'outside it drawn as ignore regions are not misses)')
        for e in evaluate_results(results, gt, metric, args.score_thr, setting=setting):
            evaluated[e['key']] = e
    counts = Counter()
    todo = [(cam, p) for cam in sorted(by_cam) for p in pick(by_cam[cam], args.num)]
    load = LoadImageFast()  # image files and frames of .seq videos (Caltech) alike
    for cam, key in tqdm(todo, desc='drawing', unit='img'):
        g = gt[key]
        path = g['img_path'] if g['seq_frame'] is None else f'{key}.jpg'
        img = load(dict(img_path=g['img_path'], seq_frame=g['seq_frame']))['img']
        e = evaluated.get(key)
        for b in g['boxes'][g['ignore']]:
            box(img, b, GREY, 1, 'ignore')
            counts['ignore regions'] += 1
        if e is None:
            for b in g['boxes'][~g['ignore']]:
                box(img, b, GREEN)
                counts['persons'] += 1
            legend(img, [(f'{cam} {osp.basename(path)}', WHITE), ('person', GREEN),
                         ('ignore region', GREY)])
        else:
            for b, m in zip(e['gt_boxes'], e['gt_match']):
                if m == 0:
                    box(img, b, ORANGE, 2, 'miss')
                    counts['missed persons'] += 1
            for b, s, m in zip(e['boxes'], e['scores'], e['dt_match']):
                color = {1: GREEN, 0: RED, -1: GREY}[int(m)]
                box(img, b, color, 2 if m >= 0 else 1, f'{s:.2f}')
                counts[{1: 'true positives', 0: 'false positives',
                        -1: 'on ignore regions'}[int(m)]] += 1
            if e['outside_setting']:  # outside the setting's height range: not drawn
                counts['detections outside the setting (not drawn)'] += e['outside_setting']
            legend(img, [(f'{cam} {osp.basename(path)}', WHITE), ('TP', GREEN), ('FP', RED),
                         ('miss', ORANGE), ('ignore', GREY)])
        out = osp.join(args.out_dir, cam, osp.splitext(osp.basename(path.split('?')[0]))[0]
                       + '.jpg')
        os.makedirs(osp.dirname(out), exist_ok=True)
        mmcv.imwrite(img, out)
    print('=' * 60)
    print(f'{len(todo)} images of {len(by_cam)} camera(s) ({split} split) in {args.out_dir}/')
    print('\n'.join(format_table(('', ''), sorted(counts.items()))[1:]))
    if args.results:
        print(f'  (detections with score >= {args.score_thr})')
    print('=' * 60)


if __name__ == '__main__':
    main()
