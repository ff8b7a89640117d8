"""SSD training pipeline speed: MMDetection's stock chain vs SSDRandomCropResize, per core.

    python benchmarks/benchmark_pipeline.py [--images 60] [--sizes 640x480 1280x800 2560x1600]

One process, one thread (OpenCV and PyTorch held to one), the same frames of a synthetic
HDA release (JPEG files, vbb boxes and ignore regions, read by HDADataset) through

* stock: ``LoadImageFromFile``, ``LoadAnnotations``, ``Expand`` (ratio 1-4),
  ``MinIoURandomCrop``, ``Resize`` 512x512, ``RandomFlip``, ``PhotoMetricDistortion``,
  ``PackDetInputs`` (``mmdet::ssd/ssd512_coco.py``'s train pipeline, SSD-512's mean);
* new: ``LoadImageFast`` (libjpeg-turbo, decoding deferred), ``LoadAnnotations``,
  ``SSDRandomCropResize`` 512x512 with the flip (decoding at 1/2-1/8 in the DCT domain
  where the crop allows), ``PhotoMetricDistortionLUT``, ``PackDetInputs``
  (``configs/ssd512_hda.py``'s);

interleaved image by image (the same draws of the machine's state for both), each seeded
alike. Also the decoders alone (cv2.imdecode vs simplejpeg, full size). Prints images/s
per core and the ratio.

``--train-iters N [--device cuda] [--workers 4] [--batch-size 8]``: instead, SSD-512
(``configs/ssd512_hda.py``, random VGG) trains N iterations on a synthetic release with each
pipeline (the config's, and the same with ``impl=stock`` and MMDetection's float jitter),
and prints training images/s and the share of step time spent waiting for data (MMEngine's
``data_time`` / ``time``, first iterations dropped). Meant for a GPU server; on the CPU it
runs too, slowly.
"""
import argparse
import copy
import os.path as osp
import sys
import tempfile
import time

import cv2
import numpy as np

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
import hda_plugin  # noqa: E402,F401
from hda_plugin.datasets import HDADataset  # noqa: E402
from hda_plugin.datasets.frames import extract_release  # noqa: E402
from hda_plugin.fileio.jpeg import decode_bgr  # noqa: E402
from hda_plugin.testing import make_synthetic_hda  # noqa: E402
from hda_plugin.utils.table import format_table  # noqa: E402

CAMERA = {'640x480': 17, '1280x800': 50, '2560x1600': 60}
MEAN = [123.675, 116.28, 103.53]
PHOTO = dict(brightness_delta=32, contrast_range=(0.5, 1.5), saturation_range=(0.5, 1.5),
             hue_delta=18)


def pipelines():
    from mmengine.dataset import Compose
    stock = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations', with_bbox=True),
             dict(type='Expand', mean=MEAN, to_rgb=True, ratio_range=(1, 4)),
             dict(type='MinIoURandomCrop', min_ious=(0.1, 0.3, 0.5, 0.7, 0.9),
                  min_crop_size=0.3),
             dict(type='Resize', scale=(512, 512), keep_ratio=False),
             dict(type='RandomFlip', prob=0.5), dict(type='PhotoMetricDistortion', **PHOTO),
             dict(type='PackDetInputs')]
    new = [dict(type='LoadImageFast', defer_decode=True),
           dict(type='LoadAnnotations', with_bbox=True),
           dict(type='SSDRandomCropResize', scale=(512, 512), mean=MEAN, to_rgb=True,
                flip_prob=0.5), dict(type='PhotoMetricDistortionLUT', **PHOTO),
           dict(type='PackDetInputs')]
    return Compose(stock), Compose(new)


def train_speed(args):
    """SSD-512 training images/s and data-wait share with each pipeline."""
    from mmengine.runner import Runner

    from hda_plugin.utils.config import load_config
    stock_opts = {'train_dataloader.dataset.dataset.pipeline.SSDRandomCropResize.impl': 'stock',
                  'train_dataloader.dataset.dataset.pipeline.PhotoMetricDistortionLUT.type':
                  'PhotoMetricDistortion'}
    rows = []
    with tempfile.TemporaryDirectory() as root:
        make_synthetic_hda(root, [17, 50, 60], frames=30, seed=0, progress=False)
        extract_release(root, [17, 50, 60], progress=False)
        for name, extra in (('hda-ssd', {}), ('stock', stock_opts)):
            opts = {'train_dataloader.dataset.dataset.data_root': root,
                    'train_dataloader.dataset.dataset.cameras': [17, 50, 60],
                    'train_dataloader.dataset.dataset.frame_step': 1,
                    'train_dataloader.batch_size': args.batch_size,
                    'train_dataloader.num_workers': args.workers,
                    'model.backbone.init_cfg': None, 'val_cfg': None, 'val_dataloader': None,
                    'val_evaluator': None, 'default_hooks.logger.interval': 10,
                    'default_hooks.checkpoint.interval': 10**6, **extra}
            cfg = load_config(osp.join(ROOT, 'configs', 'ssd512_hda.py'), opts,
                              osp.join(root, f'work_{name}'))
            cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=args.train_iters)
            cfg.param_scheduler = []
            cfg.optim_wrapper.optimizer.lr = 1e-6  # speed only: a random VGG must not diverge
            if args.device.startswith('cuda'):
                cfg.optim_wrapper.type = 'AmpOptimWrapper'
            runner = Runner.from_cfg(cfg)
            runner.train()
            hub = runner.message_hub
            skip = min(5, args.train_iters - 1)
            times = hub.get_scalar('train/time').data[0][skip:]
            waits = hub.get_scalar('train/data_time').data[0][skip:]
            rows.append([name, args.batch_size * len(times) / sum(times),
                         f'{100 * sum(waits) / sum(times):.0f}%'])
    print('=' * 72)
    print(f'SSD-512 training, {args.train_iters} iterations (first {skip} dropped), batch '
          f'{args.batch_size}, {args.workers} workers, device {args.device}')
    print('\n'.join(format_table(['pipeline', 'images/s', 'waiting for data'],
                                 [[r[0], f'{r[1]:.1f}', r[2]] for r in rows])))
    print('=' * 72)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--images', type=int, default=60, help='images per size and pipeline')
    p.add_argument('--sizes', nargs='+', default=list(CAMERA))
    p.add_argument('--train-iters', type=int, help='SSD-512 training speed instead')
    p.add_argument('--device', default='cuda')
    p.add_argument('--workers', type=int, default=4)
    p.add_argument('--batch-size', type=int, default=8)
    args = p.parse_args()
    if args.train_iters:
        return train_speed(args)
    import torch
    from mmengine.registry import init_default_scope
    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    init_default_scope('mmdet')
    stock, new = pipelines()
    rows = []
    with tempfile.TemporaryDirectory() as root:
        cams = [CAMERA[s] for s in args.sizes]
        make_synthetic_hda(root, cams, frames=max(8, min(args.images, 30)), seed=0,
                           progress=False)
        extract_release(root, cams, progress=False)
        for size, cam in zip(args.sizes, cams):
            ds = HDADataset(root, cameras=[cam], pipeline=[], filter_cfg=None)
            infos = [ds.get_data_info(i) for i in range(len(ds))]
            t = {'stock': 0.0, 'new': 0.0, 'cv2': 0.0, 'simplejpeg': 0.0}
            np.random.seed(0)
            for i in range(args.images):
                info = infos[i % len(infos)]
                for name, pipe in (('stock', stock), ('new', new)):
                    r = copy.deepcopy(info)
                    t0 = time.perf_counter()
                    out = pipe(r)
                    t[name] += time.perf_counter() - t0
                    assert tuple(out['inputs'].shape[1:]) == (512, 512)
                data = open(info['img_path'], 'rb').read()
                t0 = time.perf_counter()
                cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
                t1 = time.perf_counter()
                decode_bgr(data)
                t['cv2'] += t1 - t0
                t['simplejpeg'] += time.perf_counter() - t1
            n = args.images
            rows.append([size, f'{1000 * t["cv2"] / n:.1f}', f'{1000 * t["simplejpeg"] / n:.1f}',
                         f'{1000 * t["stock"] / n:.1f}', f'{n / t["stock"]:.1f}',
                         f'{1000 * t["new"] / n:.1f}', f'{n / t["new"]:.1f}',
                         f'{t["stock"] / t["new"]:.1f}x'])
            print(f'  {size}: stock {n / t["stock"]:.1f} img/s, new {n / t["new"]:.1f} img/s',
                  flush=True)
    print('=' * 72)
    print(f'one process, one thread, {args.images} images per size, output 512x512')
    print('\n'.join(format_table(
        ['frame', 'cv2 decode ms', 'simplejpeg ms', 'stock ms', 'stock img/s', 'new ms',
         'new img/s', 'speed-up'], rows)))
    print('=' * 72)


if __name__ == '__main__':
    main()
