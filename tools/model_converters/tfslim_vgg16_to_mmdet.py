"""Convert a TF-slim VGG16 checkpoint to MMDetection's SSD VGG16 backbone, without TensorFlow.

    python tools/model_converters/tfslim_vgg16_to_mmdet.py vgg_16.ckpt \\
        checkpoints/vgg16_tfslim_ssd.pth --fc-reduce

CKPT is a TensorFlow checkpoint: V2, as its prefix (vgg_16.ckpt for vgg_16.ckpt.index +
vgg_16.ckpt.data-00000-of-00001), either of its files, or its directory; or V1, the single
file of the 2016 TF-slim release. An SSD-Tensorflow training checkpoint (scope
ssd_512_vgg/ssd_300_vgg) works too; its conv6/conv7 are taken as they are.

vgg_16/convK/convK_J/{weights,biases} (HWIO) become features.N.{weight,bias} (OIHW).
With --fc-reduce, conv6 (features.31: 3x3, dilation 6, 1024) and conv7 (features.33: 1x1,
1024) are built from fc6/fc7 by subsampling, as the SSD paper did; without it they are
left to the model's initialisation. Train with configs/ssd512_hda_tfslim-vgg16.py (RGB,
mean 123.68/116.78/103.94, std 1: TF-slim's VGG preprocessing):

    VGG16_WEIGHTS=checkpoints/vgg16_tfslim_ssd.pth tools/dist_train.sh \\
        configs/ssd512_hda_tfslim-vgg16.py 4
"""
import argparse
import os.path as osp
import sys

from hda_plugin.fileio import TFCheckpointError, read_tf_checkpoint
from hda_plugin.weights import ConversionError, convert_tfslim_vgg16, save_backbone_checkpoint
from hda_plugin.weights.vgg_weights import VGG16_WIDTHS


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog='\n'.join(__doc__.split('\n')[2:]))
    p.add_argument('ckpt', help='TF checkpoint: V2 prefix, .index/.data file or directory, '
                                'or a V1 file')
    p.add_argument('out', help='output .pth (SSDVGG keys, for init_cfg Pretrained)')
    p.add_argument('--fc-reduce', action='store_true',
                   help='build conv6/conv7 from fc6/fc7 by subsampling (SSD paper)')
    p.add_argument('--scope', help='variable scope of the VGG (default: found, vgg_16)')
    p.add_argument('--allow-other-widths', action='store_true',
                   help='accept stage widths other than VGG16\'s 64..512 (reduced-width '
                        'networks such as the test fixture); they do not load into the '
                        'configs\' backbone')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        ckpt = read_tf_checkpoint(args.ckpt, progress=True)
        conv = convert_tfslim_vgg16(ckpt.tensors, scope=args.scope, fc_reduce=args.fc_reduce,
                                    widths=None if args.allow_other_widths else VGG16_WIDTHS,
                                    source=ckpt.prefix)
    except (TFCheckpointError, ConversionError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    save_backbone_checkpoint(conv, args.out, converted_from=osp.abspath(ckpt.prefix))
    print(f'{ckpt.prefix}: {len(ckpt.tensors)} tensors read'
          + (f', {len(ckpt.skipped)} not read ({ckpt.skipped})' if ckpt.skipped else ''))
    print(conv.table())
    print(conv.summary())
    mean = conv.meta.get('mean_rgb')
    if mean:
        print(f'checkpoint mean_rgb: {mean} (configs/ssd512_hda_tfslim-vgg16.py subtracts '
              '123.68/116.78/103.94 from RGB input)')
    print(f'saved {args.out}: use it as the backbone init_cfg checkpoint of '
          'configs/ssd512_hda_tfslim-vgg16.py (VGG16_WEIGHTS=' + args.out + ')')
    if not args.fc_reduce and conv.count('initialised'):
        print('note: conv6/conv7 are not pretrained; pass --fc-reduce to build them from '
              'fc6/fc7')
    return 0


if __name__ == '__main__':
    sys.exit(main())
