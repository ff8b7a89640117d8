"""The README failure gallery, reproduced on synthetic HDA data (docs/failure_gallery.md).

(a) TFRecords with person = 15 read with label_map={1: 'person'}, unknown_labels='ignore'
(b) a learning rate 100x too high; and a non-finite loss
(c) a misspelled --cfg-options key: tests/test_utils_cli.py
(d) persons smaller than the smallest anchor
(e) weights collapsing under a large weight decay with no positives
"""
import json
import os.path as osp
import re
import subprocess
import sys

import pytest
from conftest import DEMO_CFG, ROOT, run_env, tiny_opts

SSD512_TFRECORD_CFG = osp.join(ROOT, 'configs', 'ssd512_hda_tfrecord.py')


def run(args, timeout=900):
    p = subprocess.run([sys.executable, *args], cwd=ROOT, env=run_env(), capture_output=True,
                       text=True, timeout=timeout)
    return p.returncode, p.stdout + p.stderr


def train_opts(root, iters):
    """tiny_opts at the config's full learning rate, validation never reached (its dataset
    is still built, on ``root``)."""
    return [o for o in tiny_opts(root, iters) if not o.startswith('train_cfg.val_interval')] + [
        'param_scheduler.LinearLR.start_factor=1.0', f'train_cfg.val_interval={iters + 1}']


def diagnose_opts(root):
    return [o for o in tiny_opts(root, 1) if o.startswith('train_dataloader.dataset')]


@pytest.fixture(scope='module')
def voc15_shards(synthetic_release, tmp_path_factory):
    out = str(tmp_path_factory.mktemp('voc15'))
    code, log = run(['tools/dataset_converters/hda_to_tfrecord.py', synthetic_release,
                     '--cameras', '17', '50', '--out-dir', out, '--name', 'hda_train',
                     '--voc-labels'])
    assert code == 0, log[-3000:]
    code, log = run(['tools/dataset_converters/hda_to_tfrecord.py', synthetic_release,
                     '--cameras', '19', '--out-dir', out, '--name', 'hda_test', '--voc-labels'])
    assert code == 0, log[-3000:]
    return out


@pytest.fixture(scope='module')
def case_a_config(voc15_shards, tmp_path_factory):
    """A user config: SSD-Tensorflow shards (person = 15) read with a map for label 1."""
    path = tmp_path_factory.mktemp('cfg') / 'ssd512_hda_tfrecord_label1.py'
    path.write_text(f"""_base_ = {SSD512_TFRECORD_CFG!r}
tfrecord_root = {voc15_shards!r}
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False, dataset=dict(
    dataset=dict(data_root=tfrecord_root, label_map={{1: 'person'}}, unknown_labels='ignore',
                 filter_cfg=dict(filter_empty_gt=False, min_size=32))))
val_dataloader = dict(num_workers=0, persistent_workers=False,
                      dataset=dict(data_root=tfrecord_root))
test_dataloader = val_dataloader
model = dict(backbone=dict(init_cfg=None))
""")
    return str(path)


def test_a_sanity_hook_stops_before_training(case_a_config, tmp_path):
    code, log = run(['tools/train.py', case_a_config, '--work-dir', str(tmp_path)])
    assert code == 1
    assert re.search(r'TrainingDiagnosisError: \[DatasetSanityHook\] no usable ground truth in '
                     r'12 training images', log), log[-3000:]
    assert 'no ground truth reaches the loss' in log
    assert re.search(r'The dataset dropped \d+ boxes whose label maps to no class', log)
    assert 'Iter(train)' not in log


def test_a_positive_anchor_hook_stops_within_iterations(case_a_config, tmp_path):
    """The same data with the sanity hook off: caught during training instead."""
    code, log = run(['tools/train.py', case_a_config, '--work-dir', str(tmp_path),
                     '--cfg-options', 'custom_hooks.DatasetSanityHook.enabled=False',
                     'custom_hooks.PositiveAnchorHook.patience=2',
                     'default_hooks.logger.interval=1',
                     'train_dataloader.dataset.dataset.pipeline.SSDRandomCropResize.scale=(384,384)'])
    assert code == 1
    assert re.search(r'Epoch\(train\) +\[1\]\[ *1/\d+\].*loss: 0.0000 .*pos_per_img: 0.0000',
                     log), log[-3000:]
    assert 'no ground truth reaches the loss: 2 consecutive iterations (up to iteration 2) ' \
        'with 0 positive anchors' in log
    assert 'the batches carried no ground-truth box at all' in log
    assert not re.search(r'Epoch\(train\) +\[1\]\[ *2/', log)  # stopped within iteration 2


def test_a_diagnose_exits_1(case_a_config):
    code, log = run(['tools/analysis/diagnose.py', case_a_config])
    assert code == 1, log[-3000:]
    assert '[ERROR] DatasetSanityHook: no usable ground truth' in log
    assert 'iterations : skipped' in log and 'verdict: PROBLEM' in log


def test_b_learning_rate_100x_divergence_names_layers(synthetic_release, tmp_path):
    code, log = run(['tools/train.py', DEMO_CFG, '--work-dir', str(tmp_path), '--cfg-options',
                     *train_opts(synthetic_release, 10), 'optim_wrapper.optimizer.lr=0.2'])
    assert code == 0, log[-3000:]
    m = re.search(r'\[DivergenceHook\] training is diverging: .*Fastest-growing gradients: '
                  r'((?:backbone|neck|bbox_head)\.\w+) \(gradient norm x(\d+)', log)
    assert m, log[-5000:]
    assert int(m.group(2)) >= 10
    assert 'Lower the learning rate' in log


def test_b_nonfinite_loss_names_the_first_layer(synthetic_release, tmp_path):
    """A std of 0 in the data preprocessor: NaN from the first layer on."""
    code, log = run(['tools/train.py', DEMO_CFG, '--work-dir', str(tmp_path), '--cfg-options',
                     *train_opts(synthetic_release, 4), 'model.data_preprocessor.std=[0,0,0]'])
    assert code == 1
    assert 'TrainingDiagnosisError: [NonFiniteLossHook] loss became nan at iteration 1' in log
    assert 'first layer whose output went non-finite in the forward pass: ' \
        'data_preprocessor (the network input itself)' in log
    assert 'first parameter with a non-finite gradient: backbone.conv1.conv.weight' in log
    assert 'the optimizer step was skipped, the weights are as they were' in log
    assert 'the input is non-finite' in log


def test_d_small_persons_coverage_error_and_diagnose_exit_1(synthetic_release):
    code, log = run(['tools/analysis/diagnose.py', DEMO_CFG, '--cfg-options',
                     *diagnose_opts(synthetic_release),
                     'train_dataloader.dataset.dataset.pipeline.Resize.scale=(96,64)'])
    assert code == 1, log[-3000:]
    m = re.search(r'\[ERROR\] AnchorCoverageHook: poor anchor coverage: only ([\d.]+)%', log)
    assert m and float(m.group(1)) < 20
    assert 'are smaller than the smallest anchor (10 px as sqrt(w*h)' in log
    assert re.search(r'Enlarge the input about [\d.]+x', log)
    assert 'verdict: PROBLEM' in log


def test_healthy_demo_diagnose_exits_0(synthetic_release, tmp_path):
    report = str(tmp_path / 'report.json')
    code, log = run(['tools/analysis/diagnose.py', DEMO_CFG, '--iters', '3', '--json', report,
                     '--cfg-options', *diagnose_opts(synthetic_release)])
    assert code == 0, log[-5000:]
    assert 'verdict: HEALTHY' in log and 'iterations : 3 of 3 run' in log
    data = json.load(open(report))
    assert data['healthy'] and len(data['losses']) == 3
    assert not [f for f in data['findings'] if f['severity'] == 'error']


def test_diagnose_shrink_scales_input_and_anchors(synthetic_release, tmp_path):
    import argparse

    from mmengine.config import Config

    from tools.analysis.diagnose import dry_run_config
    cfg = Config.fromfile(DEMO_CFG)
    args = argparse.Namespace(work_dir=str(tmp_path), iters=2, batch_size=2, shrink=0.5)
    run_cfg = dry_run_config(cfg, args)
    resize = [t for t in run_cfg.train_dataloader.dataset.dataset.pipeline
              if t['type'] == 'Resize'][0]
    assert resize['scale'] == (160, 112)
    ag = run_cfg.model.bbox_head.anchor_generator
    assert ag.min_sizes == [5, 11, 22, 40, 65] and ag.max_sizes[-1] == 100
    assert run_cfg.train_cfg == dict(type='IterBasedTrainLoop', max_iters=2, val_interval=3)
    assert run_cfg.val_dataloader is None and run_cfg.default_hooks.checkpoint is None
    hooks = {h['type']: h for h in run_cfg.custom_hooks}
    assert 'ZeroAPDiagnosisHook' not in hooks
    assert hooks['PositiveAnchorHook']['patience'] == 2
    assert not hooks['DatasetSanityHook']['stop_on_error']
    assert hooks['AnchorCoverageHook']['input_scale'] == 2.0  # coverage judged at full size
    assert hooks['AnchorCoverageHook']['anchor_generator']['min_sizes'] == [10, 22, 44, 80, 130]
    code, log = run(['tools/analysis/diagnose.py', DEMO_CFG, '--iters', '2', '--shrink', '0.5',
                     '--cfg-options', *diagnose_opts(synthetic_release)])
    assert code == 0, log[-3000:]
    assert 'iterations : 2 of 2 run (batch 2, shrink 0.5)' in log
    # the same coverage as without --shrink (test_healthy_demo_diagnose_exits_0's setting)
    assert re.search(r'network input 299x224 \.\. 320x200', log)


def test_e_collapse_under_weight_decay_without_positives(synthetic_release, tmp_path):
    """No anchor can become positive (assigner thresholds above 1), so the loss is 0 and
    only AdamW's weight decay (100) acts; PositiveAnchorHook, which would stop this run
    first, is off. TensorBoard backend on."""
    cfg = tmp_path / 'collapse.py'
    cfg.write_text(f"""_base_ = {DEMO_CFG!r}
visualizer = dict(vis_backends=[dict(type='LocalVisBackend'),
                                dict(type='TensorboardVisBackend')])
""")
    work = tmp_path / 'work'
    code, log = run(['tools/train.py', str(cfg), '--work-dir', str(work), '--cfg-options',
                     *train_opts(synthetic_release, 8),
                     'model.train_cfg.assigner.pos_iou_thr=1.1',
                     'model.train_cfg.assigner.min_pos_iou=1.1',
                     'optim_wrapper.optimizer.weight_decay=100',
                     'custom_hooks.PositiveAnchorHook.enabled=False',
                     'custom_hooks.WeightHealthHook.interval=1',
                     '+custom_hooks.WeightHealthHook.collapse_window=3'])
    assert code == 0, log[-5000:]
    assert re.search(r'Iter\(train\) \[8/8\].* loss: 0.0000 ', log)
    m = re.search(r'\[WeightHealthHook\] weights collapsing toward 0 in (\d+) of (\d+) layer '
                  r'groups, .*\(iteration 1 -> (\d)\): (\S+) ([\d.e+-]+) -> ([\d.e+-]+)', log)
    assert m, log[-5000:]
    assert m.group(1) == m.group(2)  # every group
    assert float(m.group(6)) < 0.5 * float(m.group(5))
    assert 'weight_decay=100' in log
    # per-group scalars through the visualizer, histograms in TensorBoard
    group = m.group(4)
    scalars = [json.loads(line) for line in open(next(work.glob('*/vis_data/scalars.json')))]
    norms = [s[f'weight_norm/{group}'] for s in scalars if f'weight_norm/{group}' in s]
    assert len(norms) == 8 and all(b < a for a, b in zip(norms, norms[1:]))
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    events = EventAccumulator(str(next(work.glob('*/vis_data'))),
                              size_guidance={'histograms': 0})
    events.Reload()
    assert 'weights/backbone.conv1' in events.Tags()['histograms']
    assert 'update_ratio/bbox_head.cls_convs' in events.Tags()['scalars']
