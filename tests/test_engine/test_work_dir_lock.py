"""The work-dir lock: one holder however many runs take over a stale lock at once."""
import json
import multiprocessing as mp
import os
import socket
import subprocess
import sys
import time

import pytest
from conftest import ROOT, run_env

from hda_plugin.engine.work_dir_lock import LOCK_NAME, WorkDirInUseError, work_dir_lock


def _dead_pid() -> int:
    p = subprocess.run([sys.executable, '-c', 'import os; print(os.getpid())'],
                       capture_output=True, text=True)
    return int(p.stdout)


def _stale_lock(work_dir, pid):
    with open(os.path.join(work_dir, LOCK_NAME), 'w') as f:
        json.dump(dict(pid=pid, host=socket.gethostname(), started='2024-01-01 00:00:00',
                       command='tools/train.py crashed.py --resume'), f)


def _contender(work_dir, barrier, results, hold_s):
    barrier.wait()
    try:
        with work_dir_lock(work_dir):
            results.put(('held', os.getpid(), time.monotonic()))
            time.sleep(hold_s)  # the others try while this one holds it
            results.put(('released', os.getpid(), time.monotonic()))
    except WorkDirInUseError as e:
        results.put(('refused', os.getpid(), str(e)))


@pytest.mark.parametrize('n_procs, rounds', [(14, 4)])
def test_many_runs_taking_over_a_stale_lock_at_once_give_one_holder(tmp_path, n_procs, rounds):
    ctx = mp.get_context('fork')
    for r in range(rounds):
        work = tmp_path / f'round{r}'
        work.mkdir()
        _stale_lock(str(work), _dead_pid())  # what a machine crash leaves
        barrier, results = ctx.Barrier(n_procs), ctx.Queue()
        procs = [ctx.Process(target=_contender, args=(str(work), barrier, results, 1.0))
                 for _ in range(n_procs)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
        got = [results.get(timeout=10) for _ in range(n_procs + 1)]
        held = [g for g in got if g[0] == 'held']
        refused = [g for g in got if g[0] == 'refused']
        assert len(held) == 1, (r, got)
        assert len(refused) == n_procs - 1, (r, got)
        holder = held[0][1]
        # the refused ones name the holder: the new one, not the dead process
        assert all(f'in use by another training: process {holder} on ' in g[2]
                   for g in refused), refused
        assert all(p.exitcode == 0 for p in procs)
        assert not (work / LOCK_NAME).exists()  # removed by its holder on the way out


def test_lock_names_the_holder_and_is_free_after(tmp_path):
    work = str(tmp_path)
    with work_dir_lock(work) as path:
        held = json.load(open(path))
        assert held['pid'] == os.getpid() and held['host'] == socket.gethostname()
        p = subprocess.run(
            [sys.executable, '-c', 'import sys; from hda_plugin.engine.work_dir_lock import '
             'work_dir_lock\nwith work_dir_lock(sys.argv[1]): pass', work],
            cwd=ROOT, capture_output=True, text=True, env=run_env())
        assert p.returncode == 1
        assert (f'is in use by another training: process {os.getpid()} on '
                f'{socket.gethostname()}') in p.stderr, p.stderr
        assert held['command'] in p.stderr
    assert not os.path.exists(path)
    with work_dir_lock(work):  # free again
        pass


def test_lock_of_a_killed_run_is_taken_over_with_a_warning(tmp_path, monkeypatch):
    # the warning is read where it is emitted: MMLogger's handlers keep the stream they were
    # made with, so capsys sees it only when no earlier test made the logger
    import hda_plugin.engine.work_dir_lock as module
    said = []
    monkeypatch.setattr(module, 'print_log', lambda msg, **kw: said.append((msg, kw)))
    dead = _dead_pid()
    _stale_lock(str(tmp_path), dead)
    with work_dir_lock(str(tmp_path)) as path:
        assert json.load(open(path))['pid'] == os.getpid()
    assert [kw['level'] for m, kw in said if f'left by process {dead}, which no longer '
            'holds it' in m] == [30]


def test_a_lock_naming_another_host_is_not_taken_over(tmp_path):
    with open(tmp_path / LOCK_NAME, 'w') as f:
        json.dump(dict(pid=4242, host='other-node', started='x', command='train.py c.py'), f)
    with pytest.raises(WorkDirInUseError, match=r'process 4242 on other-node, started x '
                                                r'\(train\.py c\.py\).*delete'):
        with work_dir_lock(str(tmp_path)):
            pass
    assert (tmp_path / LOCK_NAME).exists()


def test_without_file_locks_the_file_is_the_lock(tmp_path, monkeypatch):
    # a filesystem without flock (some NFS mounts): the run that creates the file holds it
    import errno

    import hda_plugin.engine.work_dir_lock as module

    def no_flock(fd, op):
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    said = []
    monkeypatch.setattr(module.fcntl, 'flock', no_flock)
    monkeypatch.setattr(module, 'print_log', lambda msg, **kw: said.append((msg, kw)))
    work = str(tmp_path)
    with work_dir_lock(work) as path:
        assert json.load(open(path))['pid'] == os.getpid()
        assert [kw['level'] for m, kw in said if 'has no file locks' in m] == [30]
        with pytest.raises(WorkDirInUseError,
                           match=f'in use by another training: process {os.getpid()} on '
                                 f'{socket.gethostname()}.*has no file locks'):
            with work_dir_lock(work):
                pass
        assert json.load(open(path))['pid'] == os.getpid()  # the refused run left it alone
    assert not os.path.exists(path)  # no empty lock left behind
    with work_dir_lock(work) as path:  # free again
        assert json.load(open(path))['pid'] == os.getpid()
    assert os.listdir(work) == []
