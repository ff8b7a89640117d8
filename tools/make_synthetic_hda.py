"""Write a small synthetic HDA release (Norpix .seq videos + vbb 1.4 annotations).

    python tools/make_synthetic_hda.py --out data/synthetic_hda \
        [--cameras 17 18 19 40 50 53 54] [--frames 60] [--seed 0] [--extract]

The release has the real layout (``hda_image_sequences_matlab/cameraNN.seq``,
``hda_annotations/camNN.txt``); ``--extract`` also runs the frame extraction so that
``HDADataset(data_root=OUT, cameras=[...])`` can read it at once.
"""
import argparse
import time

from hda_plugin.testing import DEFAULT_CAMERAS, make_synthetic_hda
from hda_plugin.utils import format_table


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--out', required=True, help='release root to write')
    p.add_argument('--cameras', type=int, nargs='+', default=list(DEFAULT_CAMERAS))
    p.add_argument('--frames', type=int, default=60, help='frames per camera')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--quality', type=int, default=85, help='JPEG quality')
    p.add_argument('--extract', action='store_true',
                   help='also extract the frames (tools/dataset_converters/hda_seq_to_frames.py)')
    p.add_argument('--preview', metavar='PNG',
                   help='write a grid of one frame per camera with its boxes (green: person, '
                   'red: crowd/personUnk/hidden, yellow: occluded)')
    p.add_argument('--preview-frame', type=int, default=20, help='1-based frame to preview')
    return p.parse_args()


def main():
    args = parse_args()
    t0 = time.time()
    summary = make_synthetic_hda(args.out, args.cameras, args.frames, args.seed, args.quality)
    print(f'synthetic HDA release in {args.out} ({time.time() - t0:.1f} s, seed {args.seed}):')
    print('\n'.join(format_table(
        ('camera', 'size', 'frames', 'objects', 'boxes by label'),
        [(cam, s['resolution'], s['frames'], s['objects'], s['boxes'])
         for cam, s in summary.items()], align='lrrrl', indent='')))
    if args.extract:
        from hda_plugin.datasets.frames import extract_release
        extract_release(args.out, args.cameras)
    if args.preview:
        write_preview(args.out, args.cameras, args.preview_frame, args.preview)
        print(f'preview: {args.preview}')


def write_preview(root, cameras, frame, out_path, tile=(480, 320), cols=3):
    import os.path as osp

    import cv2
    import numpy as np

    from hda_plugin.fileio import SeqReader, load_vbb
    from hda_plugin.fileio.hda_layout import HDA_LAYOUT, camera_name, seq_filename
    tiles = []
    for cam in cameras:
        with SeqReader(osp.join(root, HDA_LAYOUT['seq'], seq_filename(cam))) as r:
            img = r.read(min(frame, len(r)) - 1)
        ann = load_vbb(osp.join(root, HDA_LAYOUT['ann'], camera_name(cam) + '.txt'))
        for obj, row in ann.per_frame()[min(frame, ann.n_frames) - 1]:
            x, t, w, h = obj.pos[row]
            person = obj.label.startswith('person') and obj.label != 'personUnk' and not obj.hide
            color = ((0, 220, 255) if obj.occl[row] else (0, 200, 0)) if person else (0, 0, 255)
            cv2.rectangle(img, (int(x), int(t)), (int(x + w), int(t + h)), color,
                          max(1, img.shape[1] // 400))
        img = cv2.resize(img, tile, interpolation=cv2.INTER_AREA)
        cv2.putText(img, f'{camera_name(cam)} {r.width}x{r.height}', (8, 22),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 2, cv2.LINE_AA)
        tiles.append(img)
    while len(tiles) % cols:
        tiles.append(np.zeros_like(tiles[0]))
    rows = [np.hstack(tiles[i:i + cols]) for i in range(0, len(tiles), cols)]
    cv2.imwrite(out_path, np.vstack(rows))


if __name__ == '__main__':
    main()
