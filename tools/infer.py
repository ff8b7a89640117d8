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
DIR/hda_detections/NAME/coco_results.json, with --video
DIR/hda_detections/NAME/videos/camNN_<input>.mp4, and the run record
DIR/hda_detections/NAME/hda-ssd.json (per input: completed, or stopped at frame N and why).
An input's files are committed when it ends, or stops at a frame defect of the file (exit
status 1; what came before the defect is written); on anything else (Ctrl-C, SIGTERM, a
full disk, a backend error) nothing replaces what was there (exit 130, 143 or the error).
One run at a time writes a detector folder.

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
    DETECTOR_MARKER,
    alld_path,
    check_detector_dir,
    mark_detector_dir,
)
from hda_plugin.fileio.coco_results import COCO_IMAGE_ID_RULE, CocoWriter  # noqa: E402
from hda_plugin.fileio.folder_lock import FolderLock  # noqa: E402
from hda_plugin.inference import (  # noqa: E402
    InferenceRunner,
    build_backend,
    open_inputs,
    parse_tile_arg,
)
from hda_plugin.inference.runner import (  # noqa: E402
    check_outputs,
    check_score,
    video_names,
)
from hda_plugin.inference.sources import MAX_FRAME_MPX  # noqa: E402
from hda_plugin.inference.tiling import MAX_TILES  # noqa: E402
from hda_plugin.structures import MIN_PERSON_HEIGHT  # noqa: E402
from hda_plugin.utils.cli import add_cfg_options, config_from_args  # noqa: E402
from hda_plugin.utils.signals import sigterm_raises  # noqa: E402


class Terminated(BaseException):
    """SIGTERM, raised where the process is so that the staged files are removed."""



def _typed(option, fn):
    """An argparse type whose errors are printed as they are (not 'invalid fn value')."""
    def parse(value):
        try:
            return fn(value)
        except (TypeError, ValueError) as e:
            raise argparse.ArgumentTypeError(str(e).replace(f'{option} ', '', 1)) from None
    parse.__name__ = option
    return parse


def _score(option):
    def parse(value):
        try:
            v = float(value)
        except ValueError:
            raise ValueError(f'{option} {value!r}: a number in [0, 1] expected.') from None
        return check_score(option, v)
    return _typed(option, parse)


def _at_least(option, lo, kind=int):
    def parse(value):
        try:
            v = kind(value)
        except ValueError:
            raise ValueError(f'{option} {value!r}: a {kind.__name__} expected.') from None
        if not v >= lo:
            raise ValueError(f'{option} {value!r}: {lo} or more expected.')
        return v
    return _typed(option, parse)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config', help='the model\'s config (its test pipeline and test_cfg)')
    p.add_argument('checkpoint', help='checkpoint (.pth), or the .onnx for --backend onnxruntime')
    p.add_argument('inputs', nargs='+', metavar='INPUT',
                   help='.seq, video file, image folder or glob, or HDA release root')
    p.add_argument('--out-dir', required=True, help='root of hda_detections/ (and videos/)')
    p.add_argument('--name', help='detector folder under hda_detections/ (default: the '
                   'config\'s file name)')
    p.add_argument('--batch-size', type=_at_least('--batch-size', 1), default=8,
                   help='images per model call (1 or more)')
    p.add_argument('--score-thr', type=_score('--score-thr'), help='keep detections scoring '
                   'at least this, in [0, 1] (default: all the model returns, its '
                   'test_cfg.score_thr)')
    p.add_argument('--tile', default='auto', type=_typed('--tile', parse_tile_arg),
                   help='auto (tile when people would be too small for the smallest anchor), '
                   'off, or WxH tiles of at least 16x16 (default auto)')
    p.add_argument('--max-tiles', type=_at_least('--max-tiles', 1), default=MAX_TILES,
                   help='refuse frames that would be cut into more tiles than this '
                   '(default %(default)s)')
    p.add_argument('--max-pixels', type=_at_least('--max-pixels', 0.0, float),
                   default=MAX_FRAME_MPX, help='refuse frames larger than this many '
                   'megapixels, before decoding them (default %(default)g; 0: no limit)')
    p.add_argument('--min-person-height', type=float, default=MIN_PERSON_HEIGHT,
                   help='--tile auto: the smallest person to find, frame pixels (default '
                   '%(default)g, the smallest detection the HDA benchmark keeps)')
    p.add_argument('--video', action='store_true', help='write an annotated .mp4 per input')
    p.add_argument('--draw-thr', type=_score('--draw-thr'), default=0.3, help='--video: '
                   'boxes drawn at or above this score (default %(default)s)')
    p.add_argument('--backend', default='pytorch', choices=['pytorch', 'onnxruntime'])
    p.add_argument('--device', default='cpu', help='cpu, cuda or cuda:N')
    p.add_argument('--cameras', nargs='+', help='cameras of a release root INPUT')
    p.add_argument('--camera', help='the camera of every INPUT (instead of its file name)')
    p.add_argument('--skip-bad', action='store_true', help='count and list images that do '
                   'not decode instead of stopping')
    p.add_argument('--no-progress', action='store_true', help='no progress bars')
    add_cfg_options(p)
    return p.parse_args(argv)


def _failure_message(runner, results, det_dir, why) -> str:
    """What a failed run says: the input, the frame, the cause, what stays."""
    lines = [f'error: {why}']
    r = runner.failed if runner is not None else None
    if r is not None:
        outs = [r.alld_path] + ([r.video_path] if r.video_path else [])
        lines.append(f'error: {r.source.path}: ended after {r.frames} frames ({r.failure}); '
                     f'nothing was committed for it: {", ".join(outs)} '
                     f'{"are" if len(outs) > 1 else "is"} as before this run (staged files '
                     'removed).')
    done = [f for x in results for f in x.files]
    lines.append(f'error: {osp.join(det_dir, "coco_results.json")} is as before this run; '
                 + (f'committed before the failure (inputs that completed): {done}; '
                    if done else '')
                 + f'the run record {osp.join(det_dir, DETECTOR_MARKER)} says which inputs '
                 'completed.')
    return '\n'.join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    cfg = config_from_args(args)
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'{args.checkpoint} does not exist.')
    name = args.name or osp.splitext(osp.basename(args.config))[0]
    det_dir = check_detector_dir(args.out_dir, name, option='--name')
    sources = open_inputs(args.inputs, args.cameras, args.camera, args.skip_bad,
                          args.max_pixels)
    video_dir = osp.join(det_dir, 'videos') if args.video else None
    videos = [osp.join(video_dir, v) for v in video_names(sources)] if video_dir else \
        [None] * len(sources)
    planned = [(alld_path(args.out_dir, name, s.camera), s) for s in sources] + \
        [(v, s) for v, s in zip(videos, sources) if v] + \
        [(osp.join(det_dir, f), None) for f in ('coco_results.json', DETECTOR_MARKER)]
    # never over an input, never two inputs to one file: before any work
    check_outputs([p for p, _ in planned], sources, [s for _, s in planned])
    lock = FolderLock(det_dir, hint=f'wait for it, stop it, or choose another --name than '
                      f'{name}')
    lock.acquire()
    try:
        with sigterm_raises(lambda: Terminated('SIGTERM')):
            return _run(args, cfg, name, det_dir, sources, videos, video_dir)
    finally:
        lock.release()


def _run(args, cfg, name, det_dir, sources, videos, video_dir) -> int:
    backend = build_backend(args.backend, cfg, args.checkpoint, args.device, args.config)
    runner = InferenceRunner(
        backend, args.out_dir, name, tile=args.tile, batch_size=args.batch_size,
        score_thr=args.score_thr, video_dir=video_dir, draw_thr=args.draw_thr,
        min_person_height=args.min_person_height, progress=not args.no_progress,
        max_tiles=args.max_tiles)
    info = dict(config=args.config, checkpoint=args.checkpoint, backend=args.backend,
                inputs=list(args.inputs))
    writer = 'hda-ssd tools/infer.py'

    def record(results, state, coco_entry=None):
        files = {osp.relpath(r.alld_path, det_dir): r.record() for r in results
                 if r.status != 'failed'}
        if coco_entry:
            files['coco_results.json'] = coco_entry
        mark_detector_dir(det_dir, name, writer, info, files, state=state)

    record([], 'running')
    coco = None
    results, start = [], time.perf_counter()
    try:
        coco = CocoWriter(osp.join(det_dir, 'coco_results.json'))
        for source, video in zip(sources, videos):
            results.append(runner.run_source(source, coco, video))
        coco.commit()
    except BaseException as e:
        if coco is not None:
            coco.abort()
        if runner.failed is not None:
            results.append(runner.failed)
        code = 130 if isinstance(e, KeyboardInterrupt) else 143 if isinstance(
            e, Terminated) else None
        why = ('interrupted (SIGINT)' if code == 130 else 'terminated (SIGTERM)' if code
               else f'{type(e).__name__}: {e}')
        try:
            record(results, f'failed: {why}')
        except Exception as rec_err:  # a full disk fails the record too; the cause is above
            print(f'warning: the run record was not updated ({rec_err})', file=sys.stderr)
        print(_failure_message(runner, results, det_dir, why), file=sys.stderr)
        if code is None:
            raise
        return code
    stopped = [r for r in results if r.error]
    record(results, 'stopped' if stopped else 'complete',
           dict(inputs=[r.source.path for r in results], status='completed',
                boxes=coco.count, image_id=COCO_IMAGE_ID_RULE))
    print(runner.summary(results, time.perf_counter() - start))
    for r in results:
        for f in r.files:
            print(f'  wrote {f}')
    print(f'  wrote {coco.path} ({coco.count} boxes, {COCO_IMAGE_ID_RULE})')
    print(f'  wrote {osp.join(det_dir, DETECTOR_MARKER)} (the run record)')
    for r in stopped:
        print(f'error: {r.error}', file=sys.stderr)
    return 1 if stopped else 0


if __name__ == '__main__':
    sys.exit(main())
