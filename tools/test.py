"""Test (and evaluate) a detector, with MMDetection 3.3.0's ``tools/test.py`` interface.

    python tools/test.py configs/ssd512_hda.py work_dirs/ssd512_hda/epoch_24.pth \
        [--work-dir DIR] [--out results.pkl] [--show-dir vis] [--cfg-options k=v ...] \
        [--hda-detections NAME [--hda-out DIR]]
    tools/dist_test.sh configs/ssd512_hda.py CKPT 4
"""
import argparse
import os.path as osp

from mmdet.engine.hooks.utils import trigger_visualization_hook
from mmdet.evaluation import DumpDetResults
from mmengine.fileio import dump
from mmengine.logging import print_log
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import hda_plugin  # noqa: F401  (registers components, applies hda_plugin.compat)
from hda_plugin.compat import init_cpu_distributed
from hda_plugin.engine.checkpoints import ATOMIC_LOCAL_BACKEND
from hda_plugin.evaluation import DumpHDADetections
from hda_plugin.fileio.alld import check_detector_dir
from hda_plugin.utils import inner_dataset_cfg
from hda_plugin.utils.cli import add_common_args, config_from_args


class AtomicDumpDetResults(DumpDetResults):
    """``--out``: MMDetection's ``DumpDetResults``, the file written whole or not at all
    (through the ``atomic_local`` file backend the checkpoints use), so a test killed while
    dumping leaves no cut results file for plot_curves.py or browse_dataset.py."""

    def compute_metrics(self, results: list) -> dict:
        local = '://' not in self.out_file_path
        dump(results, self.out_file_path,
             backend_args=dict(backend=ATOMIC_LOCAL_BACKEND) if local else None)
        print_log(f'Results has been saved to {self.out_file_path}.', logger='current')
        return {}


def parse_args():
    parser = argparse.ArgumentParser(description='MMDet test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', type=str,
                        help='dump predictions to a pickle file for offline evaluation')
    parser.add_argument('--hda-detections', metavar='NAME',
                        help='write the detections on every test frame as the HDA release\'s '
                        'DIR/hda_detections/NAME/cameraNN/Detections/allD.txt (and a COCO-style '
                        'coco_results.json), for tools/analysis/hda_benchmark.py and dbEval.m')
    parser.add_argument('--hda-out', metavar='DIR',
                        help='root for --hda-detections (default: the test set\'s data_root)')
    parser.add_argument('--show', action='store_true', help='show prediction results')
    parser.add_argument('--show-dir',
                        help='directory where painted images will be saved (under '
                        'work_dir/timestamp/)')
    parser.add_argument('--wait-time', type=float, default=2, help='the interval of show (s)')
    return add_common_args(parser).parse_args()


def main():
    args = parse_args()
    cfg = config_from_args(args)
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint} does not exist.')
    cfg.load_from = args.checkpoint
    if args.show or args.show_dir:
        cfg = trigger_visualization_hook(cfg, args)

    hda_out = None
    if args.hda_detections:  # refused (a release folder, a name taken) before the model loads
        hda_out = args.hda_out or inner_dataset_cfg(cfg.test_dataloader.dataset).get('data_root')
        if not hda_out:
            raise ValueError('--hda-detections: the test set has no data_root; give --hda-out.')
        check_detector_dir(hda_out, args.hda_detections)

    init_cpu_distributed(cfg)  # no-op with CUDA or --launcher none
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    if args.out is not None:
        if not args.out.endswith(('.pkl', '.pickle')):
            raise ValueError(f'--out {args.out}: the dump file must end in .pkl or .pickle.')
        runner.test_evaluator.metrics.append(AtomicDumpDetResults(out_file_path=args.out))
    if args.hda_detections:
        runner.test_evaluator.metrics.append(DumpHDADetections(
            args.hda_detections, hda_out,
            info=dict(config=args.config, checkpoint=args.checkpoint)))
    runner.test()


if __name__ == '__main__':
    main()
