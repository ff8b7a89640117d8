"""tools/cross_val.py: the fold plan (unit tests, no training), then one 3-fold
cross-validation of the demo config on the synthetic release (2 iterations a fold), scored
again by hda_benchmark.py, and the same run killed during its second fold and started
again, which must end with the same pooled files."""
import json
import os
import os.path as osp
import re
import shlex
import signal
import subprocess
import sys
import time

import pytest
from conftest import DEMO_CFG, ROOT, run_env, tiny_opts
from mmengine.config import Config

from hda_plugin.evaluation.cross_validation import (
    CrossValError,
    assign_folds,
    best_checkpoint,
    check_record,
    find_hda_datasets,
    make_folds,
    mean_std,
    parse_cameras,
    validation_cameras,
)
from hda_plugin.fileio.alld import alld_path

NAME = 'cv'


# ---- the plan, without training ----------------------------------------------------------
def test_folds_balanced_by_frames_with_people_deterministic():
    people = {50: 10, 19: 50, 17: 100, 40: 40, 18: 90}
    # sorted (100, 90, 50, 40, 10); each to the lightest fold, ties to the lowest index
    folds = assign_folds(people, 2)
    assert folds == [[17, 40, 50], [18, 19]]
    assert assign_folds(dict(reversed(list(people.items()))), 2) == folds  # input order
    loads = [sum(people[c] for c in f) for f in folds]
    assert loads == [150, 140]
    assert assign_folds(people, 5) == [[17], [18], [19], [40], [50]]


def test_validation_cameras_never_test_cameras_and_skip_cameras_without_people():
    people = {17: 100, 18: 90, 19: 0, 40: 40, 50: 10}
    folds = assign_folds(people, 2)  # 19, without people, weighs 0: last, to the lighter
    assert folds == [[17, 50, 19], [18, 40]]
    assert validation_cameras(folds, people, 0, 1) == [18]  # from the next fold
    assert validation_cameras(folds, people, 1, 2) == [17, 50]  # wraps to fold 0
    plan = make_folds(people, 2, 1)
    for f in plan:
        assert not set(f.val_cameras) & set(f.test_cameras)
        assert not set(f.train_cameras) & (set(f.test_cameras) | set(f.val_cameras))
        assert sorted(f.test_cameras + f.val_cameras + f.train_cameras) == sorted(people)
    assert (plan[1].val_cameras, plan[1].train_cameras) == ([17], [19, 50])
    with pytest.raises(CrossValError, match=r'--val-cameras 3: fold 1 keeps 3 cameras out of '
                       r'its test set \(cam17, cam50, cam19; 2 with people\)'):
        validation_cameras(folds, people, 1, 3)  # 19 has no person
    with pytest.raises(CrossValError, match='at least 1 validation camera'):
        validation_cameras(folds, people, 0, 0)


def test_bad_input_errors_name_what_and_where():
    with pytest.raises(CrossValError, match=r'--folds 4 is more than the 3 cameras to split '
                       r'\(cam17, cam19, cam50\)'):
        assign_folds({17: 1, 19: 1, 50: 1}, 4)
    with pytest.raises(CrossValError, match='at least 2 folds'):
        assign_folds({17: 1, 19: 1}, 1)
    with pytest.raises(CrossValError, match='camera cam17 is listed twice'):
        parse_cameras(['17', 'cam19', 'camera17'])
    with pytest.raises(CrossValError, match=r'fold 2 \(test cameras cam19 of REL\) has no frame '
                       'with a person'):
        make_folds({17: 5, 18: 3, 19: 0}, 3, 1, where='REL')
    rec = dict(fingerprint='aaa', config='a.py')
    with pytest.raises(CrossValError, match=r"plan.json was written for another "
                       r"cross-validation: its fingerprint is 'aaa', this run's is 'bbb' "
                       r"\(config 'a.py'\)"):
        check_record('plan.json', rec, dict(fingerprint='bbb'), ['fingerprint'])


def test_camera_lists_found_by_walking_the_dataset_dicts():
    cfg = Config.fromfile(DEMO_CFG)
    found = find_hda_datasets(cfg)
    assert {k: p for k, (p, _) in found.items()} == {
        'train_dataloader': 'train_dataloader.dataset.dataset',  # under RepeatDataset
        'val_dataloader': 'val_dataloader.dataset', 'test_dataloader': 'test_dataloader.dataset'}
    cfg.val_dataloader.dataset.type = 'CocoDataset'
    with pytest.raises(CrossValError, match=r'demo.py: val_dataloader holds 0 HDADataset'):
        find_hda_datasets(cfg, 'demo.py')


def test_mean_and_sample_std_over_seeds():
    mean, std = mean_std([{'seed': 0, 'hda/MR-2': 0.5}, {'seed': 1, 'hda/MR-2': 0.7}])
    assert mean == {'hda/MR-2': pytest.approx(0.6)}
    assert std == {'hda/MR-2': pytest.approx(0.1414213562)}
    assert mean_std([{'seed': 0, 'hda/MR-2': 0.5}])[1] == {'hda/MR-2': None}


# ---- the tool ----------------------------------------------------------------------------
def _opts(root):
    """The fixtures' tiny schedule (2 iterations, validated at the end) without its
    cameras: cross_val.py sets those per fold."""
    return [o for o in tiny_opts(root, 2) if '.cameras=' not in o]


def _cmd(root, work, *extra):
    return [sys.executable, 'tools/cross_val.py', DEMO_CFG, '--folds', '3', '--work-dir',
            str(work), '--seeds', '0', '--name', NAME, *extra, '--cfg-options', *_opts(root)]


def _run(cmd, timeout=600):
    p = subprocess.run(cmd, cwd=ROOT, env=run_env(), capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout + p.stderr


def test_cli_refuses_bad_input_before_training(synthetic_release, tmp_path):
    rc, out = _run(_cmd(synthetic_release, tmp_path / 'a')[:4] + ['4'] +
                   _cmd(synthetic_release, tmp_path / 'a')[5:])
    assert rc == 1 and 'error: --folds 4 is more than the 3 cameras to split' in out, out[-2000:]
    rc, out = _run(_cmd(synthetic_release, tmp_path / 'b', '--cameras', '17', '19', '17'))
    assert rc == 1 and 'camera cam17 is listed twice' in out, out[-2000:]
    rc, out = _run(_cmd(synthetic_release, tmp_path / 'c') + ['randomness.seed=3'])
    assert rc == 1 and '--cfg-options randomness.seed: cross_val.py sets' in out, out[-2000:]
    # --collect of folds never run: each listed with its work dir and its command line
    rc, out = _run(_cmd(synthetic_release, tmp_path / 'd', '--collect'))
    assert rc == 1, out[-2000:]
    assert '--collect: 3 of 3 folds are not finished' in out
    for i in range(3):
        assert f'seed 0 fold {i}' in out and str(tmp_path / 'd' / 'seed0' / f'fold{i}') in out
    assert not (tmp_path / 'd' / 'summary.json').exists()


def _pooled(work):
    det = osp.join(work, 'hda_detections', f'{NAME}_seed0')
    return {c: open(alld_path(str(work), f'{NAME}_seed0', c), 'rb').read()
            for c in (17, 19, 50) if osp.isdir(det)}


@pytest.fixture(scope='module')
def full_run(synthetic_release, tmp_path_factory):
    work = tmp_path_factory.mktemp('cv_full') / 'cv'
    rc, out = _run(_cmd(synthetic_release, work))
    assert rc == 0, out[-4000:]
    return work, out


def test_cross_validation_end_to_end(full_run, synthetic_release, tmp_path):
    work, out = full_run
    summary = json.load(open(work / 'summary.json'))
    folds = summary['folds']
    tests = [c for f in folds for c in f['test_cameras']]
    assert sorted(tests) == [17, 19, 50]  # a partition of the release's cameras
    for f in folds:
        wd = f['work_dirs']['0']
        assert wd == str(work / 'seed0' / f'fold{f["fold"]}')
        dumped = Config.fromfile(osp.join(wd, osp.basename(DEMO_CFG)),
                                 import_custom_modules=False)  # MMEngine's dump of the fold
        ds = {k: d for k, (_, d) in find_hda_datasets(dumped).items()}
        assert list(ds['train_dataloader']['cameras']) == f['train_cameras']
        assert not set(ds['train_dataloader']['cameras']) & set(f['test_cameras'])
        assert not set(ds['val_dataloader']['cameras']) & set(f['test_cameras'])
        assert osp.basename(f['checkpoints']['0']).startswith('best_hda_MR-2_iter_')
        assert dumped.randomness.seed == 0
        assert f'hda/MR-2_cam{f["test_cameras"][0]}' in f['test_metrics']['0']  # per fold
    pooled = _pooled(work)
    assert sorted(pooled) == [17, 19, 50] and all(pooled.values())
    for f in folds:  # each camera from the fold that tested it
        for c in f['test_cameras']:
            assert pooled[c] == open(alld_path(f['work_dirs']['0'], f'{NAME}_seed0', c),
                                     'rb').read()
    run = summary['runs'][0]
    assert run['seed'] == 0 and run['detector'] == f'{NAME}_seed0'
    assert set(run) >= {'hda/MR-2', 'hda/MR-2_cam17', 'hda/MR-2_cam19', 'hda/MR-2_cam50'}
    assert summary['mean']['hda/MR-2'] == run['hda/MR-2'] and summary['std']['hda/MR-2'] is None
    # the caltech settings over the same pooled detections: per camera, what the fold that
    # tested the camera computed in its own test run
    assert 'caltech/Reasonable/MR-2' in run and 'caltech/Reasonable/MR-2' in summary['mean']
    for f in folds:
        for c in f['test_cameras']:
            key = f'caltech/Reasonable/MR-2_cam{c}'
            assert run[key] == pytest.approx(f['test_metrics']['0'][key], abs=1e-4), key
    assert 'protocol caltech' in out and 'Reasonable' in out
    # the benchmark tool on the pooled folder, as summary.json's command runs it, gives the
    # summary's figures and intervals (cross_val's default 1000 resamples)
    js = tmp_path / 'mr.json'
    bench_cmd = shlex.split(summary['benchmark_command'])
    assert bench_cmd[:2] == ['python', 'tools/analysis/hda_benchmark.py'] and \
        '--bootstrap' in bench_cmd, bench_cmd
    assert summary['bootstrap']['resamples'] == 1000 and summary['bootstrap']['seed'] == 0
    p = subprocess.run([sys.executable] + bench_cmd[1:] + ['--json', str(js)], cwd=ROOT,
                       env=run_env(), capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    bench = json.load(open(js))
    assert 'hda/MR-2_ci95' in run and 'hda/MR-2_ci95_cam17' in run
    assert {f'hda/{k}': v for k, v in bench.items() if k not in ('bootstrap', 'detectors')} \
        == {k: v for k, v in run.items() if k.startswith('hda/')}
    pool_row = re.search(r'^\s*pool\s+(\d+)\s+(\d+)\s+(\d+)\s+(\S+%)', p.stdout, re.M)
    assert pool_row and pool_row.group(4) == f'{run["hda/MR-2"]:.1%}', p.stdout
    assert f'{NAME}_seed0 {run["hda/MR-2"]:.1%}' in re.sub(r' +', ' ', out)
    # run again: every fold is skipped, same summary
    rc, again = _run(_cmd(synthetic_release, work))
    assert rc == 0 and again.count('finished before') == 3, again[-3000:]
    assert 'training on' not in again
    assert json.load(open(work / 'summary.json'))['runs'] == summary['runs']
    # --dry-run: one line per fold; its test step finds the checkpoint save_best kept
    rc, dry = _run(_cmd(synthetic_release, work, '--dry-run'))
    assert rc == 0, dry[-2000:]
    lines = [ln for ln in dry.splitlines() if 'tools/train.py' in ln]
    assert len(lines) == 3 and all('tools/test.py' in ln for ln in lines), dry[-2000:]
    for f, line in zip(folds, lines):
        assert f'--work-dir {f["work_dirs"]["0"]} ' in line
        find = re.search(r'"\$\(python -c (.+?)\)"', line)
        assert find, line
        code = shlex.split(find.group(1))[0]
        got = subprocess.run([sys.executable, '-c', code], cwd=ROOT, env=run_env(),
                             capture_output=True, text=True, timeout=120)
        assert got.stdout.strip() == f['checkpoints']['0'], got.stderr[-2000:]
    # another config's settings in the same folder: refused, naming the plan file
    rc, other = _run(_cmd(synthetic_release, work) + ['train_cfg.max_iters=3'])
    assert rc == 1 and 'cross_val_plan.json was written for another cross-validation: its ' \
        'fingerprint' in other, other[-2000:]


def test_killed_during_second_fold_resumes_to_the_same_pooled_files(full_run, synthetic_release,
                                                                    tmp_path):
    work = tmp_path / 'cv'
    log = tmp_path / 'first.log'
    fold2_log = work / 'seed0' / 'fold1' / 'cross_val_train.log'
    with open(log, 'w') as f:
        p = subprocess.Popen(_cmd(synthetic_release, work), cwd=ROOT, env=run_env(), stdout=f,
                             stderr=subprocess.STDOUT, start_new_session=True)
    t0 = time.time()
    while not (fold2_log.exists() and 'Checkpoints will be saved' in fold2_log.read_text()) \
            and p.poll() is None and time.time() - t0 < 400:
        time.sleep(0.1)
    assert p.poll() is None, log.read_text()[-3000:]
    os.killpg(p.pid, signal.SIGKILL)  # the tool and the training it runs, as a node dies
    p.wait()
    assert (work / 'seed0' / 'fold0' / 'cross_val_done.json').exists()
    assert not (work / 'seed0' / 'fold1' / 'cross_val_done.json').exists()
    assert not (work / 'summary.json').exists()
    rc, out = _run(_cmd(synthetic_release, work))
    assert rc == 0, out[-4000:]
    assert 'fold 1/3 seed 0: finished before' in out
    assert 'fold 2/3 seed 0: training' in out and 'fold 3/3 seed 0: training' in out
    ref = _pooled(full_run[0])
    assert _pooled(work) == ref and len(ref) == 3
    assert json.load(open(work / 'summary.json'))['runs'] == \
        json.load(open(full_run[0] / 'summary.json'))['runs']
    # a fold trained by the tool whose test has not finished since (its detections may be an
    # earlier test's): --collect lists it and writes nothing
    os.remove(work / 'seed0' / 'fold1' / 'cross_val_done.json')
    os.remove(work / 'summary.json')
    rc, out = _run(_cmd(synthetic_release, work, '--collect'))
    assert rc == 1 and '1 of 3 folds are not finished' in out, out[-3000:]
    assert 'its test did not finish after its training (run --fold 1 --seeds 0' in out
    assert not (work / 'summary.json').exists()


def _checkpoint(path, score):
    import torch
    hub = {'runtime_info': {} if score is None else {'best_score': score}, 'log_scalars': {}}
    torch.save({'meta': {'iter': 1}, 'state_dict': {}, 'message_hub': hub}, str(path))


def test_best_checkpoint_of_several_is_the_best_score(tmp_path):
    """A run killed between MMEngine's best file and its regular checkpoint's re-save
    resumes without knowing that file and may write a second, worse one: the best score
    wins, the earlier iteration on ties; one file is taken as it is."""
    assert best_checkpoint(str(tmp_path)) is None
    (tmp_path / 'best_hda_MR-2_iter_900.pth').write_bytes(b'not read when alone')
    assert best_checkpoint(str(tmp_path)) == str(tmp_path / 'best_hda_MR-2_iter_900.pth')
    _checkpoint(tmp_path / 'best_hda_MR-2_iter_900.pth', 0.45)
    _checkpoint(tmp_path / 'best_hda_MR-2_iter_300.pth', 0.40)
    assert best_checkpoint(str(tmp_path)) == str(tmp_path / 'best_hda_MR-2_iter_300.pth')
    _checkpoint(tmp_path / 'best_hda_MR-2_iter_600.pth', 0.40)
    assert best_checkpoint(str(tmp_path)) == str(tmp_path / 'best_hda_MR-2_iter_300.pth')
    _checkpoint(tmp_path / 'best_hda_MR-2_iter_1150.pth', 0.30)
    assert best_checkpoint(str(tmp_path)) == str(tmp_path / 'best_hda_MR-2_iter_1150.pth')
    _checkpoint(tmp_path / 'best_hda_MR-2_iter_50.pth', None)
    with pytest.raises(CrossValError, match=r'best_hda_MR-2_iter_50\.pth records no '
                       'best_score'):
        best_checkpoint(str(tmp_path))


def test_link_release_links_the_release_but_never_the_pooled_folders(tmp_path):
    """The cross-validation folder reads the release's annotations, ground truth and other
    detectors (AcfInria beside the pooled model, paired), and never writes into them."""
    from hda_plugin.evaluation.cross_validation import link_release
    rel, out = tmp_path / 'rel', tmp_path / 'cv'
    for d in ('hda_annotations', 'hda_detections/GtAnnotationsAll',
              'hda_detections/AcfInria', f'hda_detections/{NAME}_seed0'):
        (rel / d).mkdir(parents=True)
    link_release(str(out), str(rel), own=[f'{NAME}_seed0'])
    for d in ('hda_annotations', 'hda_detections/GtAnnotationsAll', 'hda_detections/AcfInria'):
        assert (out / d).is_symlink() and (out / d).resolve() == (rel / d).resolve(), d
    assert not (out / 'hda_detections' / f'{NAME}_seed0').exists()
