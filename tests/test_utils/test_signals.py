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

_FORK = '''
import os, signal
with sigterm_raises(KeyboardInterrupt):
    pid = os.fork()
    if pid == 0:  # the child: SIGTERM's default, not the parent's raising handler
        os._exit(0 if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL else 3)
    _, status = os.waitpid(pid, 0)
    print('child', os.waitstatus_to_exitcode(status))
    assert signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, None)
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


def test_forked_children_keep_sigterms_default():
    # a child that inherited the raising handler would raise inside whatever lock it waits
    # on (mmdet's eval_map Pool workers did) instead of dying
    p = _run(_FORK)
    assert p.returncode == 0 and 'child 0' in p.stdout, p.stderr[-2000:]


def test_the_tools_own_process_raises_and_the_handler_is_restored():
    p = _run(_SELF)
    assert p.returncode == 0 and 'raised terminated' in p.stdout, p.stderr[-2000:]
