"""Extract the frames of an HDA release's Norpix .seq videos for HDADataset.

    python tools/dataset_converters/hda_seq_to_frames.py HDA_ROOT [--cameras 17 50 ...]

Reads ``HDA_ROOT/hda_image_sequences_matlab/cameraNN.seq`` (JPEG or PNG frames, 8- or
16-byte frame padding, raw frames too) and writes ``HDA_ROOT/hda_frames/camNN/I<frame>.jpg``
with the 1-based frame numbers of the vbb annotations, byte for byte (no re-encoding).
Afterwards ``data_root=HDA_ROOT`` is all a config needs. A truncated or corrupt video keeps
the frames before the defect and exits with status 1 naming the frame and byte offset.
"""
import argparse
import sys
import time

from hda_plugin.datasets.frames import extract_camera, find_cameras
from hda_plugin.fileio.hda_layout import camera_name
from hda_plugin.fileio.seq import SeqFormatError
from hda_plugin.utils import format_table


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('root', help='HDA release root (holds hda_image_sequences_matlab/)')
    p.add_argument('--cameras', type=int, nargs='+',
                   help='camera ids (default: every cameraNN.seq found)')
    return p.parse_args()


def main():
    args = parse_args()
    cams = args.cameras or find_cameras(args.root)
    t0 = time.time()
    rows, errors = [], []
    for cam in cams:
        try:
            r = extract_camera(args.root, cam)
            rows.append((camera_name(cam), r['codec'], r['size'], r['padding'], r['frames'],
                         r['declared'], 'ok'))
        except (SeqFormatError, FileNotFoundError) as e:
            errors.append(str(e))
            rows.append((camera_name(cam), '-', '-', '-', '-', '-', 'ERROR'))
    print(f'\nframes of {args.root} ({time.time() - t0:.1f} s):')
    print('\n'.join(format_table(
        ('camera', 'codec', 'size', 'padding', 'written', 'declared', 'status'), rows,
        align='lrrrrrl', indent='')))
    for e in errors:
        print('error:', e, file=sys.stderr)
    sys.exit(1 if errors else 0)


if __name__ == '__main__':
    main()
