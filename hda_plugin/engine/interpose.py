"""Interposing on an upstream method for the length of a training run, put back for sure.

A diagnostic hook that must see what an MMEngine/MMDetection method sees (the optimizer
wrapper's ``step``, the assigner's ``assign``) replaces it on the *instance* (the class is
untouched) with a wrapper. MMEngine calls ``after_train`` only when training ends normally,
so a hook that restores there leaves its wrapper in place when training raises (and the
diagnostic hooks raise on purpose). Here:

- :class:`Interposition` installs one wrapper; :meth:`~Interposition.restore` puts back
  what was there, also when other wrappers were installed on top of it since (each wrapper
  calls through a pointer that restoring re-links, so any order of restores is safe);
- :class:`InterposingHook` is the base of hooks that interpose: :meth:`interpose` from
  ``before_train``; every interposition is undone in ``after_train`` and, through one
  guard around the train loop's ``run`` set in ``before_run`` (by the first such hook, for
  all of them), in a ``finally`` when the loop raises.
"""
from typing import Callable, Dict, List, Tuple

from mmengine.hooks import Hook
from mmengine.runner import BaseLoop

__all__ = ['Interposition', 'InterposingHook']

# (id(obj), name) -> {'base_was_attr': bool, 'layers': [Interposition, ...] innermost first}
_CHAINS: Dict[Tuple[int, str], dict] = {}


class Interposition:
    """``obj.<name>`` replaced by ``make_wrapper(call_inner)`` until :meth:`restore`.

    ``call_inner`` calls what was there before (the bound method, or the wrapper below).
    """

    def __init__(self, obj, name: str, make_wrapper: Callable[[Callable], Callable]):
        self.obj, self.name = obj, name
        self._key = (id(obj), name)
        chain = _CHAINS.setdefault(self._key, dict(base_was_attr=name in vars(obj), layers=[]))
        self.inner = getattr(obj, name)

        def call_inner(*args, **kwargs):
            return self.inner(*args, **kwargs)

        self.wrapper = make_wrapper(call_inner)
        # MMEngine's param schedulers flag a step they count with ``_with_counter``.
        if hasattr(self.inner, '_with_counter'):
            self.wrapper._with_counter = self.inner._with_counter
        setattr(obj, name, self.wrapper)
        chain['layers'].append(self)

    def restore(self) -> None:
        """Puts back what this interposition replaced; a no-op the second time."""
        chain = _CHAINS.get(self._key)
        if chain is None or self not in chain['layers']:
            return
        layers = chain['layers']
        i = layers.index(self)
        if i + 1 < len(layers):  # a wrapper above calls this one: make it call our inner
            layers[i + 1].inner = self.inner
        elif i > 0:  # outermost, with wrappers below
            setattr(self.obj, self.name, layers[i - 1].wrapper)
        elif chain['base_was_attr']:  # the only one: back to the instance attribute
            setattr(self.obj, self.name, self.inner)
        else:  # the only one: back to the class's method
            delattr(self.obj, self.name)
        layers.remove(self)
        if not layers:
            del _CHAINS[self._key]


class InterposingHook(Hook):
    """Base of hooks that wrap an upstream method during training (see the module doc)."""

    def __init__(self):
        super().__init__()
        self._interpositions: List[Interposition] = []

    def interpose(self, obj, name: str, make_wrapper: Callable) -> Interposition:
        """Installs ``make_wrapper(call_inner)`` as ``obj.<name>`` until training ends."""
        ip = Interposition(obj, name, make_wrapper)
        self._interpositions.append(ip)
        return ip

    def restore_all(self) -> None:
        while self._interpositions:
            self._interpositions.pop().restore()

    def before_run(self, runner) -> None:
        # Runner.train builds its loop before ``before_run``; Runner.val/test do not, and
        # the public ``runner.train_loop`` property would build one (and its dataloader).
        loop = getattr(runner, '_train_loop', None)
        if not isinstance(loop, BaseLoop) or getattr(vars(loop).get('run'), 'guards', False):
            return  # not training, or another InterposingHook guarded this loop already
        guard = []

        def make_guard(run):
            def guarded_run(*args, **kwargs):
                try:
                    return run(*args, **kwargs)
                finally:  # every interposing hook of this runner, then the guard itself
                    for hook in runner.hooks:
                        if isinstance(hook, InterposingHook):
                            hook.restore_all()
                    guard[0].restore()
            guarded_run.guards = True
            return guarded_run

        guard.append(Interposition(loop, 'run', make_guard))

    def after_train(self, runner) -> None:
        self.restore_all()
