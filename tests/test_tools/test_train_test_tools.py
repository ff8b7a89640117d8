"""End-to-end runs of tools/train.py, tools/test.py and tools/dist_train.sh on CPU."""
import glob
import json
import os
import os.path as osp
import pickle
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from conftest import DEMO_CFG, ROOT, run_env, tiny_opts
from PIL import Image


def run(cmd, timeout=900, **kw):
    p = subprocess.run(cmd, cwd=ROOT, env=run_env(), capture_output=True, text=True,
                       timeout=timeout, **kw)
    assert p.returncode == 0, f'{cmd}\nstdout:\n{p.stdout[-4000:]}\nstderr:\n{p.stderr[-6000:]}'
    return p.stdout + p.stderr


def test_train_then_test_prints_voc_ap(synthetic_release, tmp_path):
    work = str(tmp_path / 'work')
    out = run([sys.executable, 'tools/train.py', DEMO_CFG, '--work-dir', work, '--cfg-options',
               *tiny_opts(synthetic_release, 4)])
    assert 'Iter(train) [4/4]' in out
    assert osp.isfile(osp.join(work, 'iter_4.pth'))
    # the diagnostic hooks of the HDA configs ran: sanity table, coverage, positives logged
    assert '[DatasetSanityHook] training annotations:' in out
    assert 'anchor coverage at IoU >= 0.5' in out
    assert 'pos_per_img:' in out and 'gt_matched:' in out
    assert 'weights: training starts from random initialisation' in out
    # validation ran at the end, on the held-out camera, and reported VOC AP both ways
    assert 'voc/AP50' in out and 'voc11/AP50' in out
    pkl = str(tmp_path / 'results.pkl')
    hda_out = str(tmp_path / 'hda_out')
    out = run([sys.executable, 'tools/test.py', DEMO_CFG, osp.join(work, 'iter_4.pth'),
               '--work-dir', work, '--out', pkl, '--show-dir', 'vis',
               '--hda-detections', 'Tiny', '--hda-out', hda_out, '--cfg-options',
               *tiny_opts(synthetic_release, 4)])
    assert 'voc/AP50' in out and osp.isfile(pkl)
    # both protocols, named, overall and per camera
    assert 'hda/MR-2: ' in out and 'hda/MR-2_cam19: ' in out
    assert 'caltech/Reasonable/MR-2: ' in out and 'caltech/Occ=heavy/MR-2_cam19: ' in out
    assert 'protocol hda-benchmark (dbEval.m' in out and 'protocol caltech (settings' in out
    assert 'not the release\'s GtAnnotationsAll' in out  # the synthetic release has none
    assert glob.glob(osp.join(work, '*', 'vis', '*.jpg')), 'no --show-dir images'
    bench = float(re.search(r'hda/MR-2: ([\d.]+)', out).group(1))

    # round trip: the exported allD.txt, scored by hda_benchmark.py, is the printed figure
    # (the release's vbb files give the frame counts and the ground truth)
    for sub in ('hda_annotations', ):
        os.symlink(osp.join(synthetic_release, sub), osp.join(hda_out, sub))
    alld = osp.join(hda_out, 'hda_detections', 'Tiny', 'camera19', 'Detections', 'allD.txt')
    rows = [line.split(',') for line in open(alld)]
    assert rows and all(len(r) == 7 and r[0] == '19' for r in rows)
    assert {int(r[1]) for r in rows} <= set(range(1, 7))  # 1-based frames of the vbb
    js = str(tmp_path / 'bench.json')
    run([sys.executable, 'tools/analysis/hda_benchmark.py', hda_out, '--detector', 'Tiny',
         '--cameras', '19', '--json', js])
    # tools/test.py prints 4 decimals
    assert json.load(open(js))['MR-2'] == pytest.approx(bench, abs=5e-5)
    coco = json.load(open(osp.join(hda_out, 'hda_detections', 'Tiny', 'coco_results.json')))
    assert len(coco) == len(rows) and coco[0]['image_id'] // 100000 == 19
    mr2 = float(re.search(r'caltech/Reasonable/MR-2: ([\d.]+)', out).group(1))

    # curves from the dump, two runs on one plot; the offline MR-2 is the metric's
    test_set = [f'test_dataloader.dataset.data_root={synthetic_release}',
                'test_dataloader.dataset.cameras=[19]']
    curves = str(tmp_path / 'curves')
    out = run([sys.executable, 'tools/analysis/plot_curves.py', DEMO_CFG, pkl, pkl,
               '--labels', 'run A', 'run B', '--out-dir', curves, '--cfg-options', *test_set])
    summary = json.load(open(osp.join(curves, 'curves.json')))
    # offline: the caltech protocol in the config's first setting, as the metric printed
    assert summary['setting'] == 'Reasonable'
    assert summary['runs']['run A']['all']['mr2'] == pytest.approx(mr2, abs=1e-4)
    assert set(summary['runs']['run B']) == {'all', 'cam19'}
    assert len(summary['ref_fppi']) == 9 and 'log-average miss rate (MR-2)' in out
    for name in ('miss_rate_fppi.png', 'precision_recall.png'):
        with Image.open(osp.join(curves, name)) as im:
            assert im.format == 'PNG' and im.size[0] >= 600 and im.size[1] >= 300
            assert len(np.unique(np.asarray(im.convert('L')))) > 10  # drawn, not blank

    # prediction images coloured by outcome, and ground-truth browsing per camera
    browse = str(tmp_path / 'browse')
    # the 4-iteration model's scores are low and random: a low threshold and the setting
    # 'All' (persons and detections from 20 / 1.25 px) leave false positives to draw
    out = run([sys.executable, 'tools/analysis/browse_dataset.py', DEMO_CFG, '--results', pkl,
               '--num', '2', '--score-thr', '0.02', '--setting', 'All', '--out-dir', browse,
               '--cfg-options', *test_set])
    assert len(glob.glob(osp.join(browse, 'cam19', '*.jpg'))) == 2
    assert 'false positives' in out
    out = run([sys.executable, 'tools/analysis/browse_dataset.py', DEMO_CFG, '--split', 'train',
               '--cameras', '17', '--num', '3', '--out-dir', browse + '_gt', '--cfg-options',
               f'train_dataloader.dataset.dataset.data_root={synthetic_release}'])
    assert len(glob.glob(osp.join(browse + '_gt', 'cam17', '*.jpg'))) == 3
    assert re.search(r'persons +\d+', out) and 'ignore regions' in out


def test_kill_and_resume_continues_iteration_count(synthetic_release, tmp_path):
    work = str(tmp_path / 'work')
    cmd = [sys.executable, 'tools/train.py', DEMO_CFG, '--work-dir', work, '--cfg-options',
           *tiny_opts(synthetic_release, 400, ckpt_interval=2)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=run_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 600
        while not osp.isfile(osp.join(work, 'iter_4.pth')) and time.time() < deadline:
            assert proc.poll() is None, 'training died before its 4th iteration'
            time.sleep(0.5)
        time.sleep(1.0)  # let it write last_checkpoint
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    last = open(osp.join(work, 'last_checkpoint')).read().strip()
    done = int(osp.basename(last)[5:-4])
    assert done >= 4
    out = run([sys.executable, 'tools/train.py', DEMO_CFG, '--work-dir', work, '--resume',
               '--cfg-options', *tiny_opts(synthetic_release, done + 2, ckpt_interval=2)])
    assert f'resumed epoch: 0, iter: {done}' in out
    assert f'weights: resuming from {osp.join(work, f"iter_{done}.pth")}' in out
    assert f'Iter(train) [{done + 1}/{done + 2}]' in out and 'Iter(train) [1/' not in out
    assert osp.isfile(osp.join(work, f'iter_{done + 2}.pth'))


def test_dist_train_two_cpu_processes(synthetic_release, tmp_path):
    work = str(tmp_path / 'work')
    env_port = str(29500 + os.getpid() % 1000)
    cmd = ['bash', 'tools/dist_train.sh', DEMO_CFG, '2', '--work-dir', work, '--cfg-options',
           *tiny_opts(synthetic_release, 2)]
    env = run_env()
    env['PORT'] = env_port
    env['OMP_NUM_THREADS'] = '1'
    p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out[-8000:]
    assert 'Distributed launcher: pytorch' in out and 'Distributed training: True' in out
    assert "'world_size': 2" in out or 'world_size: 2' in out or 'GPU number: 2' in out
    assert 'Iter(train) [2/2]' in out
    assert osp.isfile(osp.join(work, 'iter_2.pth'))


def test_ssd512_hda_trains_and_evaluates_with_its_fast_pipeline(synthetic_release, tmp_path):
    """configs/ssd512_hda.py as it is (LoadImageFast, SSDRandomCropResize,
    PhotoMetricDistortionLUT, 4 workers), shrunk to a 320x320 input, random VGG, 2
    iterations, then the evaluators on a held-out camera."""
    work = str(tmp_path / 'work')
    root = synthetic_release
    pipe = 'train_dataloader.dataset.dataset.pipeline'
    out = run([sys.executable, 'tools/train.py', osp.join(ROOT, 'configs', 'ssd512_hda.py'),
               '--work-dir', work, '--cfg-options',
               f'train_dataloader.dataset.dataset.data_root={root}',
               'train_dataloader.dataset.dataset.cameras=[17,50]',
               'train_dataloader.dataset.dataset.frame_step=3',
               'train_dataloader.batch_size=2', 'train_dataloader.num_workers=2',
               f'{pipe}.SSDRandomCropResize.scale=(320,320)',
               f'val_dataloader.dataset.data_root={root}', 'val_dataloader.dataset.cameras=[19]',
               'val_dataloader.dataset.frame_step=3', 'val_dataloader.num_workers=0',
               'val_dataloader.persistent_workers=False',
               'val_dataloader.dataset.pipeline.Resize.scale=(320,320)',
               f'test_dataloader.dataset.data_root={root}',
               'test_dataloader.dataset.cameras=[19]', 'test_dataloader.num_workers=0',
               'test_dataloader.persistent_workers=False',
               'test_dataloader.dataset.pipeline.Resize.scale=(320,320)',
               'model.backbone.init_cfg=None', 'train_cfg.max_epochs=1',
               'train_cfg.val_interval=1', 'default_hooks.logger.interval=1'])
    assert re.search(r'Epoch\(train\)\s+\[1\]\[2/2\]', out), out[-3000:]
    assert 'SSDRandomCropResize' in out and 'PhotoMetricDistortionLUT' in out
    # the anchor coverage check read the crop's output size (320x320), not 1x
    assert 'anchor coverage at IoU >= 0.5' in out
    assert 'voc/AP50' in out and 'hda/MR-2: ' in out  # evaluated
    assert osp.isfile(osp.join(work, 'epoch_1.pth'))


def _test_metrics(work):
    """The metrics MMEngine's LoggerHook wrote for the test run in ``work``
    (``work/<timestamp>/<timestamp>.json``)."""
    logs = glob.glob(osp.join(work, '*', '*.json'))
    assert len(logs) == 1, logs
    lines = [json.loads(line) for line in open(logs[0]) if line.strip()]
    return {k: v for k, v in lines[-1].items() if k not in ('time', 'data_time', 'step')}


def test_mmdetections_own_test_py_runs_the_configs(synthetic_release, demo_checkpoint,
                                                  tmp_path):
    """MMDetection's unmodified tools/test.py (mmdet/.mim/tools/test.py) on the demo config:
    custom_imports registers hda_plugin, the config names its head, hooks and runner, and it
    prints the same figures as our tools/test.py on the same checkpoint."""
    import mmdet
    mmdet_test = osp.join(osp.dirname(mmdet.__file__), '.mim', 'tools', 'test.py')
    assert osp.isfile(mmdet_test), mmdet_test
    opts = [f'test_dataloader.dataset.data_root={synthetic_release}',
            'test_dataloader.dataset.cameras=[19]', 'test_dataloader.num_workers=0',
            'test_dataloader.persistent_workers=False']
    figures, dumps = {}, {}
    for name, script in (('mmdet', mmdet_test), ('ours', 'tools/test.py')):
        work = str(tmp_path / name)
        dumps[name] = str(tmp_path / f'{name}.pkl')
        out = run([sys.executable, script, DEMO_CFG, demo_checkpoint, '--work-dir', work,
                   '--out', dumps[name], '--cfg-options', *opts], timeout=600)
        assert "no attribute 'loss_cls'" not in out
        assert re.search(r'(Epoch|Iter)\(test\) \[\d+/\d+\].*hda/MR-2: [\d.]+', out), \
            out[-3000:]
        figures[name] = _test_metrics(work)
    assert 'voc/AP50' in figures['mmdet'] and 'hda/MR-2' in figures['mmdet']
    assert 'caltech/Reasonable/MR-2' in figures['mmdet']
    assert figures['mmdet'] == pytest.approx(figures['ours'], abs=1e-12, nan_ok=True)
    assert len(figures['mmdet']) == len(figures['ours'])
    # the same detections, box for box (the figures of an untrained model say little)
    with open(dumps['mmdet'], 'rb') as f:
        theirs = pickle.load(f)
    with open(dumps['ours'], 'rb') as f:
        ours = pickle.load(f)
    assert len(theirs) == len(ours) == 6
    for a, b in zip(theirs, ours):
        assert a['img_path'] == b['img_path'] and len(a['pred_instances']['scores'])
        for key in ('bboxes', 'scores', 'labels'):
            assert torch.equal(a['pred_instances'][key], b['pred_instances'][key]), key
