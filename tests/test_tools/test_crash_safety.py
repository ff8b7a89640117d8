"""Crash-safe training state: kill -9 at random moments, resume, lose at most one
interval; one training per work dir; a resume that skips cut files. The configs name the
components that do it (CrashSafeCheckpointHook, CrashSafeRunner); MMEngine is not patched."""
import os
import random
import re
import signal
import subprocess
import sys
import time

import torch
from conftest import DEMO_CFG, ROOT, run_env, tiny_opts

from hda_plugin.engine.checkpoints import find_resumable_checkpoint, is_complete_checkpoint

#: kill rounds in CI; the closing note of issue 13 reports a 20-round run
ROUNDS = int(os.environ.get('HDA_KILL_ROUNDS', '4'))


def _train(root, work, iters, extra=()):
    opts = [o for o in tiny_opts(root, iters, ckpt_interval=1)
            if not o.startswith('default_hooks.checkpoint.max_keep_ckpts')]
    return [sys.executable, 'tools/train.py', DEMO_CFG, '--work-dir', str(work), '--resume',
            '--cfg-options', *opts, 'default_hooks.checkpoint.max_keep_ckpts=1', *extra]


def _last_iter(log):
    found = re.findall(r'Iter\(train\) \[ *(\d+)/', log)
    return int(found[-1]) if found else 0


def test_kill_9_at_random_moments_then_resume(synthetic_release, tmp_path):
    work = tmp_path / 'work'
    rng = random.Random(0)
    done = 0
    for k in range(ROUNDS):
        out = tmp_path / f'round{k}.log'
        with open(out, 'w') as f:
            p = subprocess.Popen(_train(synthetic_release, work, 400), cwd=ROOT, env=run_env(),
                                 stdout=f, stderr=subprocess.STDOUT)
        t0 = time.time()
        while _last_iter(out.read_text()) <= done and p.poll() is None and \
                time.time() - t0 < 300:
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 1.5))  # somewhere in an iteration or a save
        p.send_signal(signal.SIGKILL)
        p.wait()
        log = out.read_text()
        if k:  # resumed where the previous run left off, at most one interval back
            m = re.search(r'resumed epoch: \d+, iter: (\d+)', log)
            assert m, log[-3000:]
            assert int(m.group(1)) >= done - 1, (k, m.group(1), done)
        done = _last_iter(log)
    p = subprocess.run(_train(synthetic_release, work, done + 2), cwd=ROOT, env=run_env(),
                       capture_output=True, text=True, timeout=600)
    log = p.stdout + p.stderr
    assert p.returncode == 0, log[-3000:]
    # the config's components did it (MMEngine logs the hooks and the runner is ours)
    assert 'CrashSafeCheckpointHook' in log and 'Hooks will be executed' in log
    assert int(re.search(r'resumed epoch: \d+, iter: (\d+)', log).group(1)) >= done - 1
    assert re.search(rf'Iter\(train\) \[ *{done + 2}/{done + 2}\]', log)
    ckpts = sorted(n for n in os.listdir(work) if n.endswith('.pth'))
    assert ckpts == [f'iter_{done + 2}.pth'], ckpts  # max_keep_ckpts=1, no partial files
    assert not [n for n in os.listdir(work) if '.part' in n]


def test_second_training_in_a_work_dir_fails_at_once(synthetic_release, tmp_path):
    work = tmp_path / 'work'
    first = subprocess.Popen(_train(synthetic_release, work, 400), cwd=ROOT, env=run_env(),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        t0 = time.time()
        while not (work / '.hda-ssd.lock').exists() and time.time() - t0 < 120:
            time.sleep(0.05)
        p = subprocess.run(_train(synthetic_release, work, 4), cwd=ROOT, env=run_env(),
                           capture_output=True, text=True, timeout=300)
        assert p.returncode == 1
        assert f'is in use by another training: process {first.pid} on' in p.stderr
        assert 'Iter(train)' not in p.stdout + p.stderr
    finally:
        first.kill()
        first.wait()


def test_resume_skips_an_empty_pointer_and_a_cut_checkpoint(tmp_path):
    good, newer = tmp_path / 'iter_4.pth', tmp_path / 'iter_5.pth'
    torch.save({'state_dict': {'w': torch.ones(1000)}}, good)
    torch.save({'state_dict': {'w': torch.ones(1000)}}, newer)
    newer.write_bytes(newer.read_bytes()[:3000])  # a save that did not finish
    (tmp_path / 'last_checkpoint').write_text('')
    assert is_complete_checkpoint(str(good)) and not is_complete_checkpoint(str(newer))
    assert find_resumable_checkpoint(str(tmp_path)) == str(good)
    (tmp_path / 'last_checkpoint').write_text(str(newer))
    assert find_resumable_checkpoint(str(tmp_path)) == str(good)
    (tmp_path / 'last_checkpoint').unlink()
    assert find_resumable_checkpoint(str(tmp_path)) == str(good)
    assert find_resumable_checkpoint(str(tmp_path / 'nothing')) is None


def test_resume_removes_leftovers_of_a_save_killed_midway(tmp_path):
    torch.save({'state_dict': {'w': torch.ones(3)}}, tmp_path / 'iter_1.pth')
    dead = subprocess.run([sys.executable, '-c', 'import os; print(os.getpid())'],
                          capture_output=True, text=True).stdout.strip()
    (tmp_path / f'iter_2.pth.part{dead}').write_bytes(b'PK\x03\x04 half a zip')
    (tmp_path / f'keep.part{os.getpid()}').write_bytes(b'')  # a live writer: kept
    assert find_resumable_checkpoint(str(tmp_path)) == str(tmp_path / 'iter_1.pth')
    assert sorted(os.listdir(tmp_path)) == ['iter_1.pth', f'keep.part{os.getpid()}']
