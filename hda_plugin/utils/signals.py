"""SIGTERM unwound as an exception in a tool's own process (so that staged outputs are
removed, as after Ctrl-C), while the processes it forks keep SIGTERM's default.

A plain ``signal.signal(SIGTERM, raise_something)`` is inherited by every forked child:
``multiprocessing.Pool`` (mmdet's ``eval_map`` forks one for each VOC AP; DataLoader
workers fork too) then sends its workers SIGTERM on terminate, a worker raises inside its
queue's lock instead of dying, and the pool waits for it for ever (seen: ``tools/test.py``
hung in ``VOCMetric.compute_metrics`` on a fresh clone). Forked children get SIGTERM's
default back at fork (``os.register_at_fork``); a SIGTERM that reaches a child between the
fork and that reset is lost, so hold the block only around the work that stages files,
not around code that forks pools.
"""
import os
import signal
from contextlib import contextmanager
from typing import Callable

__all__ = ['sigterm_raises']

#: Handlers installed by :func:`sigterm_raises` and not yet removed.
_ACTIVE = []


def _default_in_child():
    # runs in every forked child, before it runs anything else
    if _ACTIVE and signal.getsignal(signal.SIGTERM) in _ACTIVE:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


os.register_at_fork(after_in_child=_default_in_child)


@contextmanager
def sigterm_raises(make_exc: Callable[[], BaseException] = KeyboardInterrupt):
    """Inside the block, SIGTERM raises ``make_exc()`` in this process; processes forked
    meanwhile keep SIGTERM's default action. The previous handler is restored on leaving."""

    def handler(signum, frame):
        raise make_exc()

    previous = signal.signal(signal.SIGTERM, handler)
    _ACTIVE.append(handler)
    try:
        yield
    finally:
        _ACTIVE.remove(handler)
        signal.signal(signal.SIGTERM, previous)
