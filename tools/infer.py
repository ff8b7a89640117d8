"""Run a trained detector over videos and frames: per-camera allD.txt, COCO-style results,
annotated videos.

    python tools/infer.py CONFIG CHECKPOINT INPUT [INPUT ...] --out-dir DIR \
        [--name NAME] [--batch-size 8] [--score-thr T] [--tile auto|off|WxH] [--video] \
        [--backend pytorch|onnxruntime] [--device cpu|cuda] [--cameras 17 60] [--camera N] \
        [--skip-bad]

INPUT is a Norpix .seq video (read directly, no extraction), a video file (.mp4, .avi,
... through PyAV), an image folder or a quoted glob, or an HDA release root (with
--cameras, or every .seq it holds). The camera comes from the file name (camera17.seq,
hda_frames/cam17/) or --camera; frames are numbered from 1. With --backend onnxruntime,
CHECKPOINT is the .onnx written by tools/deployment/export_onnx.py.

Writes DIR/hda_detections/NAME/cameraNN/Detections/allD.txt (tools/test.py's writer;
score it with tools/analysis/hda_benchmark.py DIR --detector NAME),
DIR/hda_detections/NAME/coco_results.json and, with --video, DIR/videos/<input>.mp4.
Exit status 1 when an input stopped at a defect (what came before it is written).

Video files and --video need PyAV, --tile SAHI, --backend onnxruntime ONNX Runtime:
pip install 'hda-ssd[infer]' installs all three (or [video], [tile], [deploy] alone).
"""
import argparse
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import hda_plugin  # noqa: F401,E402  (registers components, applies hda_plugin.compat)
from hda_plugin.fileio.alld import (  # noqa: E402
    check_detector_dir,
    mark_detector_dir,
)
from hda_plugin.fileio.coco_results import CocoWriter  # noqa: E402
from hda_plugin.inference import (  # noqa: E402
    InferenceRunner,
    build_backend,
    open_inputs,
    parse_tile_arg,
)
from hda_plugin.structures import MIN_PERSON_HEIGHT  # noqa: E402
from hda_plugin.utils.cli import add_cfg_options, config_from_args  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config', help='the model\'s config (its test pipeline and test_cfg)')
    p.add_argument('checkpoint', help='checkpoint (.pth), or the .onnx for --backend onnxruntime')
    p.add_argument('inputs', nargs='+', metavar='INPUT',
                   help='.seq, video file, image folder or glob, or HDA release root')
    p.add_argument('--out-dir', required=True, help='root of hda_detections/ (and videos/)')
    p.add_argument('--name', help='detector folder under hda_detections/ (default: the '
                   'config\'s file name)')
    p.add_argument('--batch-size', type=int, default=8, help='images per model call')
    p.add_argument('--score-thr', type=float, help='keep detections scoring at least this '
                   '(default: all the model returns, its test_cfg.score_thr)')
    p.add_argument('--tile', default='auto', type=parse_tile_arg,
                   help='auto (tile when people would be too small for the smallest anchor), '
                   'off, or WxH tiles (default auto)')
    p.add_argument('--min-person-height', type=float, default=MIN_PERSON_HEIGHT,
                   help='--tile auto: the smallest person to find, frame pixels (default '
                   '%(default)g, the smallest detection the HDA benchmark keeps)')
    p.add_argument('--video', action='store_true', help='write an annotated .mp4 per input')
    p.add_argument('--draw-thr', type=float, default=0.3, help='--video: boxes drawn at or '
                   'above this score (default %(default)s)')
    p.add_argument('--backend', default='pytorch', choices=['pytorch', 'onnxruntime'])
    p.add_argument('--device', default='cpu', help='cpu, cuda or cuda:N')
    p.add_argument('--cameras', nargs='+', help='cameras of a release root INPUT')
    p.add_argument('--camera', help='the camera of every INPUT (instead of its file name)')
    p.add_argument('--skip-bad', action='store_true', help='count and list images that do '
                   'not decode instead of stopping')
    p.add_argument('--no-progress', action='store_true', help='no progress bars')
    add_cfg_options(p)
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    cfg = config_from_args(args)
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'{args.checkpoint} does not exist.')
    name = args.name or osp.splitext(osp.basename(args.config))[0]
    det_dir = check_detector_dir(args.out_dir, name, option='--name')
    sources = open_inputs(args.inputs, args.cameras, args.camera, args.skip_bad)
    backend = build_backend(args.backend, cfg, args.checkpoint, args.device)
    runner = InferenceRunner(
        backend, args.out_dir, name, tile=args.tile, batch_size=args.batch_size,
        score_thr=args.score_thr, video_dir=osp.join(args.out_dir, 'videos') if args.video
        else None, draw_thr=args.draw_thr, min_person_height=args.min_person_height,
        progress=not args.no_progress)
    mark_detector_dir(det_dir, name, 'hda-ssd tools/infer.py',
                      dict(config=args.config, checkpoint=args.checkpoint,
                           backend=args.backend, inputs=list(args.inputs)))
    coco = CocoWriter(osp.join(det_dir, 'coco_results.json'))
    results, start = [], time.perf_counter()
    try:
        for source in sources:
            results.append(runner.run_source(source, coco))
    finally:
        coco.commit()
    print(runner.summary(results, time.perf_counter() - start))
    for r in results:
        for f in r.files:
            print(f'  wrote {f}')
    print(f'  wrote {coco.path} ({coco.count} boxes, image_id = camera * 100000 + frame)')
    failed = [r for r in results if r.error]
    for r in failed:
        print(f'error: {r.error}', file=sys.stderr)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
