"""The CPU demo behind ``make demo``: synthetic HDA data -> SSD training -> held-out AP50.

    python tools/demo.py [--config CONFIG] [--data-root data/synthetic_hda]
                         [--work-dir work_dirs/demo] [--frames 80] [--seed 0]
                         [--cfg-options k=v ...]

1. Writes a synthetic HDA release (``.seq`` videos + vbb annotations) if it is missing,
   and extracts its frames with the same code as for the real release.
2. Trains the CPU config on its training cameras (MMEngine Runner), seeded by the
   config's ``randomness`` (``--cfg-options randomness.seed=N`` for another run).
3. Evaluates on the held-out cameras, whose scenes training never saw.
4. Saves images with ground truth (left) and predictions (right) drawn, writes
   ``WORK_DIR/demo_metrics.json`` and prints ``demo: held-out AP50=<x>``.
"""
import argparse
import json
import os
import os.path as osp
import time

from mmengine.runner import Runner

import hda_plugin  # noqa: F401
from hda_plugin.datasets.frames import extract_release
from hda_plugin.testing import make_synthetic_hda
from hda_plugin.utils import inner_dataset_cfg
from hda_plugin.utils.cli import add_cfg_options, config_from_args

DEFAULT_CONFIG = 'configs/ssdlite_mobilenetv2-w0.5_1xb8-1150it_synthetic-hda-cpu.py'


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--config', default=DEFAULT_CONFIG)
    p.add_argument('--data-root', default='data/synthetic_hda')
    p.add_argument('--work-dir', default='work_dirs/demo')
    p.add_argument('--frames', type=int, default=80, help='frames per synthetic camera')
    p.add_argument('--seed', type=int, default=0, help='seed of the synthetic release')
    p.add_argument('--num-vis', type=int, default=6, help='prediction images to save')
    return add_cfg_options(p).parse_args()


def ensure_data(root, cameras, frames, seed):
    stamp = osp.join(root, '.synthetic-complete')
    want = f'cameras={sorted(cameras)} frames={frames} seed={seed}'
    if osp.isfile(stamp) and open(stamp).read().strip() == want:
        print(f'demo: synthetic HDA release found in {root} ({want})')
        return
    print(f'demo: writing a synthetic HDA release to {root} ({want})')
    make_synthetic_hda(root, sorted(cameras), frames=frames, seed=seed)
    extract_release(root, sorted(cameras))
    with open(stamp, 'w') as f:
        f.write(want + '\n')


def save_visualisations(runner, cfg, out_dir, num):
    """Draws predictions and ground truth on a few held-out frames with mmdet's visualizer."""
    import mmcv
    import torch
    from mmdet.apis import inference_detector
    from mmdet.registry import VISUALIZERS
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData

    model = runner.model.module if hasattr(runner.model, 'module') else runner.model
    model.cfg = cfg
    model.eval()
    dataset = runner.test_dataloader.dataset
    vis = VISUALIZERS.build(dict(type='DetLocalVisualizer', name='demo_vis'))
    vis.dataset_meta = dataset.metainfo
    os.makedirs(out_dir, exist_ok=True)
    step = max(1, len(dataset) // max(1, num))
    written = []
    for idx in list(range(0, len(dataset), step))[:num]:
        info = dataset.get_data_info(idx)
        img = mmcv.imread(info['img_path'], channel_order='rgb')
        result = inference_detector(model, info['img_path'])
        gt = InstanceData()
        keep = [i for i in info['instances'] if not i['ignore_flag']]
        gt.bboxes = torch.tensor([i['bbox'] for i in keep], dtype=torch.float32).reshape(-1, 4)
        gt.labels = torch.zeros(len(keep), dtype=torch.long)
        sample = DetDataSample(pred_instances=result.pred_instances, gt_instances=gt)
        path = osp.join(out_dir, f'{info["img_id"]}.jpg')
        vis.add_datasample(info['img_id'], img, sample, draw_gt=True, draw_pred=True,
                           pred_score_thr=0.3, out_file=path)
        written.append(path)
    return written


def main():
    args = parse_args()
    cfg = config_from_args(args)
    train_ds = inner_dataset_cfg(cfg.train_dataloader.dataset)
    test_ds = inner_dataset_cfg(cfg.test_dataloader.dataset)
    for ds in (train_ds, inner_dataset_cfg(cfg.val_dataloader.dataset), test_ds):
        ds.data_root = args.data_root
    train_cams, test_cams = list(train_ds.cameras), list(test_ds.cameras)
    overlap = set(train_cams) & set(test_cams)
    if overlap:
        raise ValueError(f'{args.config}: cameras {sorted(overlap)} are in both training and '
                         'held-out sets; the demo measures generalisation to unseen cameras.')
    ensure_data(args.data_root, train_cams + test_cams, args.frames, args.seed)

    # Evaluate once, after training, on the held-out cameras (runner.test below); the
    # iteration loop would otherwise also validate at its last iteration.
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    runner = Runner.from_cfg(cfg)
    t0 = time.time()
    runner.train()
    train_seconds = time.time() - t0
    metrics = runner.test()
    ap50 = float(metrics['voc/AP50'])
    seed = (cfg.get('randomness') or {}).get('seed')
    images = save_visualisations(runner, cfg, osp.join(args.work_dir, 'vis'), args.num_vis)
    mr2 = float(metrics.get('hda/MR-2', float('nan')))
    reasonable = float(metrics.get('caltech/Reasonable/MR-2', float('nan')))
    result = dict(ap50=ap50, ap50_11points=float(metrics.get('voc11/AP50', float('nan'))),
                  mr2=mr2, mr2_per_camera={k.split('_')[-1]: float(v) for k, v in
                                           metrics.items() if k.startswith('hda/MR-2_')},
                  caltech_reasonable_mr2=reasonable,
                  train_cameras=train_cams, heldout_cameras=test_cams,
                  train_seconds=round(train_seconds, 1), iterations=cfg.train_cfg.max_iters,
                  config=args.config, training_seed=seed, images=images)
    with open(osp.join(args.work_dir, 'demo_metrics.json'), 'w') as f:
        json.dump(result, f, indent=2)
    print(f'demo: trained {cfg.train_cfg.max_iters} iterations on cameras {train_cams} in '
          f'{train_seconds / 60:.1f} min; evaluated on held-out cameras {test_cams}')
    print(f'demo: images with ground truth (left) and predictions (right, score > 0.3) in '
          f'{osp.join(args.work_dir, "vis")}; metrics in '
          f'{osp.join(args.work_dir, "demo_metrics.json")}')
    print(f'demo: held-out log-average miss rate MR-2={mr2:.3f} (protocol hda-benchmark, '
          'ground truth built from the vbb files), '
          f'{reasonable:.3f} (protocol caltech, setting Reasonable)')
    print(f'demo: held-out AP50={ap50:.3f} (training seed {seed})')


if __name__ == '__main__':
    main()
