"""Write a small synthetic HDA release (Norpix .seq videos + vbb 1.4 annotations).

    python tools/make_synthetic_hda.py --out data/synthetic_hda \
        [--cameras 17 18 19 40 50 53 54] [--frames 60] [--seed 0] [--extract]

The release has the real layout (``hda_image_sequences_matlab/cameraNN.seq``,
``hda_annotations/camNN.txt``); ``--extract`` also runs the frame extraction so that
``HDADataset(data_root=OUT, cameras=[...])`` can read it at once.
"""
import argparse
import time

from hda_plugin.datasets.synthetic_hda import DEFAULT_CAMERAS, make_synthetic_hda


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--out', required=True, help='release root to write')
    p.add_argument('--cameras', type=int, nargs='+', default=list(DEFAULT_CAMERAS))
    p.add_argument('--frames', type=int, default=60, help='frames per camera')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--quality', type=int, default=85, help='JPEG quality')
    p.add_argument('--extract', action='store_true',
                   help='also extract the frames (tools/dataset_converters/hda_seq_to_frames.py)')
    return p.parse_args()


def main():
    args = parse_args()
    t0 = time.time()
    summary = make_synthetic_hda(args.out, args.cameras, args.frames, args.seed, args.quality)
    print(f'synthetic HDA release in {args.out} ({time.time() - t0:.1f} s, seed {args.seed}):')
    print(f'{"camera":<8}{"size":>11}{"frames":>8}{"objects":>9}  boxes by label')
    for cam, s in summary.items():
        print(f'{cam:<8}{s["resolution"]:>11}{s["frames"]:>8}{s["objects"]:>9}  {s["boxes"]}')
    if args.extract:
        from hda_plugin.datasets.frames import extract_release
        extract_release(args.out, args.cameras)


if __name__ == '__main__':
    main()
