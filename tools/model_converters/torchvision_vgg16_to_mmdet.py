"""Convert torchvision's ImageNet VGG16 (vgg16-397923af.pth) to MMDetection's SSD VGG16
backbone, with conv6/conv7 built from fc6/fc7.

    python tools/model_converters/torchvision_vgg16_to_mmdet.py vgg16-397923af.pth \\
        checkpoints/vgg16_torchvision_ssd.pth --fc-reduce

torchvision and mmcv number VGG16's `features` alike, so the 13 convs keep their keys.
With --fc-reduce, conv6 (features.31: 3x3, dilation 6, 1024) is subsampled from
classifier.0 (fc6, 4096 x 512*7*7) and conv7 (features.33) from classifier.3 (fc7), as the
SSD paper did; without it they are left to the model's initialisation. Train with
configs/ssd512_hda_torchvision-vgg16.py (RGB, torchvision's ImageNet mean and std):

    VGG16_WEIGHTS=checkpoints/vgg16_torchvision_ssd.pth tools/dist_train.sh \\
        configs/ssd512_hda_torchvision-vgg16.py 4

MMDetection's caffe VGG16 (vgg16_caffe-292e1171.pth) needs no conversion: it is already in
this layout with conv6/conv7; configs/ssd512_hda.py loads it as it is.
"""
import argparse
import os.path as osp
import sys

from hda_plugin.weights import (
    ConversionError,
    convert_torchvision_vgg16,
    load_state_dict_file,
    save_backbone_checkpoint,
)
from hda_plugin.weights.vgg_weights import VGG16_WIDTHS


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog='\n'.join(__doc__.split('\n')[2:]))
    p.add_argument('src', help="torchvision vgg16 state dict (.pth)")
    p.add_argument('out', help='output .pth (SSDVGG keys, for init_cfg Pretrained)')
    p.add_argument('--fc-reduce', action='store_true',
                   help='build conv6/conv7 from fc6/fc7 by subsampling (SSD paper)')
    p.add_argument('--allow-other-widths', action='store_true',
                   help="accept stage widths other than VGG16's 64..512")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        state, _ = load_state_dict_file(args.src)
        conv = convert_torchvision_vgg16(state, fc_reduce=args.fc_reduce,
                                         widths=None if args.allow_other_widths else
                                         VGG16_WIDTHS, source=args.src)
    except ConversionError as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    save_backbone_checkpoint(conv, args.out, converted_from=osp.abspath(args.src))
    print(conv.table())
    print(conv.summary())
    print(f'saved {args.out}: use it with configs/ssd512_hda_torchvision-vgg16.py '
          f'(VGG16_WEIGHTS={args.out})')
    if not args.fc_reduce:
        print('note: conv6/conv7 are not pretrained; pass --fc-reduce to build them from '
              'fc6/fc7')
    return 0


if __name__ == '__main__':
    sys.exit(main())
