"""Export a trained SSD to ONNX: one graph from image batch to boxes, scores and labels
(normalisation, network, anchor decoding, score filtering and NMS inside).

    python tools/deployment/export_onnx.py CONFIG CHECKPOINT OUT.onnx [--input-size W H]
    python tools/infer.py CONFIG OUT.onnx INPUT ... --backend onnxruntime --out-dir DIR

Inputs: images (N, 3, H, W) float32 BGR pixels 0..255 at the input size (padded with the
normalisation mean), img_shape (N, 2) each image's unpadded height and width. Outputs:
boxes (K, 4) x1 y1 x2 y2 in input pixels, scores (K,), labels (K,), batch_index (K,).
The graph is checked with onnx.checker (full check, shapes inferred). NMS is ONNX's
NonMaxSuppression; see hda_plugin/deployment/onnx_export.py for the rules kept.
Needs the deploy extra: pip install 'hda-ssd[deploy]' (onnx, onnxscript, onnxruntime).
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
import hda_plugin  # noqa: F401,E402  (registers components, applies hda_plugin.compat)
from hda_plugin.deployment import export_onnx, input_size_of  # noqa: E402
from hda_plugin.inference import PyTorchBackend  # noqa: E402
from hda_plugin.utils.cli import add_cfg_options, config_from_args  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('out', help='the .onnx file to write')
    p.add_argument('--input-size', nargs=2, type=int, metavar=('W', 'H'),
                   help='network input: needed only where the config\'s test pipeline has no '
                   'Resize scale; otherwise it must equal that scale (padded to the '
                   'preprocessor\'s pad_size_divisor): set another size with --cfg-options '
                   'test_dataloader.dataset.pipeline.Resize.scale="(W,H)"')
    add_cfg_options(p)
    return p.parse_args(argv)


def _input_size(cfg, given):
    """The config's input size; ``--input-size`` only where the config has none, or equal
    to it: a graph of another size would be refused by tools/infer.py with this config
    (the runtime checks the graph's size against the config's), so the size is set in the
    config, where both read it."""
    try:
        mine = tuple(input_size_of(cfg))
    except ValueError:
        if given:
            return tuple(given)
        raise
    if given and tuple(given) != mine:
        raise ValueError(
            f'--input-size {given[0]} {given[1]}: the config feeds the network '
            f'{mine[0]}x{mine[1]} (its test Resize scale, padded to the preprocessor\'s '
            'pad_size_divisor), and tools/infer.py checks the graph against the config it '
            'runs with. Set the size in the config instead, for the export and the runs: '
            '--cfg-options test_dataloader.dataset.pipeline.Resize.scale='
            f'"({given[0]},{given[1]})" (here and in tools/infer.py).')
    return mine


def main(argv=None) -> int:
    args = parse_args(argv)
    if not args.out.endswith('.onnx'):
        raise ValueError(f'{args.out}: the output name must end in .onnx.')
    cfg = config_from_args(args)
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'{args.checkpoint} does not exist.')
    size = _input_size(cfg, args.input_size)
    backend = PyTorchBackend(cfg, args.checkpoint, 'cpu')
    meta = export_onnx(backend.model, args.out, size, config=args.config,
                       checkpoint=args.checkpoint)
    print(f'wrote {args.out}: input {size[0]}x{size[1]}, score_thr {meta.score_thr}, '
          f'nms_pre {meta.nms_pre}, NMS IoU {meta.iou_thr}, max_per_img '
          f'{meta.max_per_img} (onnx.checker: ok)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
