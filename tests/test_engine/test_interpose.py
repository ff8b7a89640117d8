"""The interposition helper: wrappers restored in any order, and when training raises."""
import argparse

import pytest
from conftest import DEMO_CFG, tiny_opts
from mmengine.hooks import Hook
from mmengine.optim import OptimWrapper

from hda_plugin.engine.interpose import Interposition
from hda_plugin.utils import load_config
from hda_plugin.utils.cli import add_cfg_options


class _Thing:
    def f(self, x):
        return x + 1


def test_restores_in_any_order_and_keeps_the_chain():
    t = _Thing()
    a = Interposition(t, 'f', lambda inner: lambda x: inner(x) * 10)
    b = Interposition(t, 'f', lambda inner: lambda x: inner(x) - 3)
    assert t.f(1) == 17  # (1 + 1) * 10 - 3
    a.restore()  # the inner one first: b must now call the method itself
    assert t.f(1) == -1 and 'f' in vars(t)
    a.restore()  # a second restore is a no-op
    assert t.f(1) == -1
    b.restore()
    assert 'f' not in vars(t) and t.f(1) == 2  # back to the class's method


def test_restores_an_instance_attribute_that_was_there():
    t = _Thing()
    t.f = lambda x: x * 2
    original = t.f
    ip = Interposition(t, 'f', lambda inner: lambda x: inner(x) + 100)
    assert t.f(3) == 106
    ip.restore()
    assert t.f is original


class _Boom(Exception):
    pass


class _RaiseAt(Hook):
    """Records the upstream methods before any hook wraps them, then makes the loop raise."""
    priority = 'LOWEST'

    def __init__(self):
        self.before = None

    def record(self, runner):
        self.before = (runner.optim_wrapper.step, runner.model.bbox_head.assigner.assign,
                       runner.train_loop.run)

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if runner.iter == 1:
            raise _Boom('the loop raises at iteration 2')


def test_hooks_put_upstream_methods_back_when_training_raises(synthetic_release, tmp_path):
    from mmengine.runner import Runner
    opts = add_cfg_options(argparse.ArgumentParser()).parse_args(
        ['--cfg-options', *tiny_opts(synthetic_release, 4)]).cfg_options
    cfg = load_config(DEMO_CFG, opts, work_dir=str(tmp_path))
    runner = Runner.from_cfg(cfg)
    raiser = _RaiseAt()
    runner.register_hook(raiser)

    class _Record(Hook):
        priority = 'HIGHEST'  # before_run and before_train ahead of every other hook

        def before_run(self, runner):
            raiser.record(runner)

    runner.register_hook(_Record())
    assigner = runner.model.bbox_head.assigner
    with pytest.raises(_Boom):
        runner.train()
    step, assign, run = raiser.before
    # PositiveAnchorHook wrapped assign, NonFiniteLossHook, DivergenceHook and
    # WeightHealthHook wrapped the optimizer wrapper's step, every hook guarded the loop:
    # all are the originals again
    assert assigner.assign == assign and 'assign' not in vars(assigner)
    assert runner.optim_wrapper.step is step or runner.optim_wrapper.step == step
    assert getattr(runner.optim_wrapper.step, '__name__', '') not in (
        'guarded', 'reading', 'measuring')
    assert isinstance(runner.optim_wrapper, OptimWrapper)
    assert runner.train_loop.run == run and 'run' not in vars(runner.train_loop)
    watched = [h for h in runner.hooks if type(h).__name__ in (
        'PositiveAnchorHook', 'NonFiniteLossHook', 'DivergenceHook', 'WeightHealthHook')]
    assert len(watched) == 4 and all(not h._interpositions for h in watched)
    # the hooks did watch: PositiveAnchorHook recorded the iterations before the error
    assert [h for h in watched if type(h).__name__ == 'PositiveAnchorHook'][0].history
