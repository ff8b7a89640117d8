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


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--images', type=int, default=60, help='images per size and pipeline')
    p.add_argument('--sizes', nargs='+', default=list(CAMERA))
    args = p.parse_args()
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
