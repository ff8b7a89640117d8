"""SIGTERM unwound as an exception in a tool's own process (so that staged outputs are
removed, as after Ctrl-C), while the processes it forks keep SIGTERM's default.

A plain ``signal.signal(SIGTERM, raise_something)`` is inherited by every forked child:
``multiprocessing.Pool.terminate()`` (mmdet's ``eval_map`` forks a Pool for each VOC AP,
DataLoader workers fork too) sends its workers SIGTERM, a worker then raises inside its
queue's lock instead of dying, leaves the lock taken, and ``terminate()`` waits for the
others forever (seen: ``tools/test.py`` hung in ``VOCMetric.compute_metrics``).
"""
import os
import signal
from contextlib import contextmanager
from typing import Callable

__all__ = ['sigterm_raises']


@contextmanager
def sigterm_raises(make_exc: Callable[[], BaseException] = KeyboardInterrupt):
    """Inside the block, SIGTERM raises ``make_exc()`` in this process; a forked child that
    inherited the handler dies by SIGTERM's default action instead. The previous handler is
    restored on leaving."""
    owner = os.getpid()

    def handler(signum, frame):
        if os.getpid() != owner:  # a forked child: die as SIGTERM means it to
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        raise make_exc()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
