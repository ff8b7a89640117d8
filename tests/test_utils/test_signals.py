"""sigterm_raises: SIGTERM unwinds the tool's own process, never a forked worker."""
import os.path as osp
import subprocess
import sys

from conftest import ROOT, run_env

# the module alone (no hda_plugin import: the helper starts in a moment)
_LOAD = '''
import importlib.util
spec = importlib.util.spec_from_file_location('signals', {path!r})
signals = importlib.util.module_from_spec(spec)
spec.loader.exec_module(signals)
sigterm_raises = signals.sigterm_raises
'''

_POOL = '''
import multiprocessing as mp


def add(a, b):
    return a + b


with sigterm_raises(KeyboardInterrupt):
    for _ in range(30):  # mmdet's eval_map: a forked Pool, closed, left to the collector
        pool = mp.get_context('fork').Pool(4)
        assert pool.starmap(add, zip(range(6), range(6))) == [0, 2, 4, 6, 8, 10]
        pool.close()
        del pool
    for _ in range(10):  # Pool.terminate() sends its workers SIGTERM
        pool = mp.get_context('fork').Pool(4)
        assert pool.map(abs, range(-8, 0)) == list(range(8, 0, -1))
        pool.terminate()
        pool.join()
print('pools terminated')
'''

_SELF = '''
import os, signal
try:
    with sigterm_raises(lambda: RuntimeError('terminated')):
        os.kill(os.getpid(), signal.SIGTERM)
except RuntimeError as e:
    print('raised', e)
assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
'''


def _run(code):
    load = _LOAD.format(path=osp.join(ROOT, 'hda_plugin', 'utils', 'signals.py'))
    return subprocess.run([sys.executable, '-c', load + code], cwd=ROOT, env=run_env(),
                          capture_output=True, text=True, timeout=90)


def test_forked_pool_workers_still_die_by_sigterm():
    # with a handler inherited by the workers, they raise inside the queue's lock and the
    # pool waits for them for ever (the timeout of _run fires)
    p = _run(_POOL)
    assert p.returncode == 0 and 'pools terminated' in p.stdout, p.stderr[-2000:]
    assert 'KeyboardInterrupt' not in p.stderr


def test_the_tools_own_process_raises_and_the_handler_is_restored():
    p = _run(_SELF)
    assert p.returncode == 0 and 'raised terminated' in p.stdout, p.stderr[-2000:]
