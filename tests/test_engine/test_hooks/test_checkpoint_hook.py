"""CrashSafeCheckpointHook and CrashSafeRunner on hand-made work dirs (no training); the
kill -9 runs are in tests/test_tools/test_crash_safety.py."""
import os
import os.path as osp
import types

import pytest
import torch
from mmdet.registry import HOOKS
from mmengine.logging import MessageHub, MMLogger
from mmengine.runner.checkpoint import save_checkpoint

import hda_plugin.engine.checkpoints as checkpoints_module
from hda_plugin.engine import AtomicLocalBackend, CrashSafeRunner
from hda_plugin.engine.hooks import CrashSafeCheckpointHook


class _Runner:
    """What CheckpointHook reads of a Runner; ``save_checkpoint`` as MMEngine's writes the
    file (through ``mmengine.runner.checkpoint.save_checkpoint`` and ``backend_args``), after
    noting which files were there."""

    def __init__(self, work_dir):
        self.work_dir = str(work_dir)
        self.logger = MMLogger.get_instance('hda_test_ckpt_hook')
        self.message_hub = MessageHub.get_instance(f'hda_test_ckpt_hook_{id(self)}')
        self.seen_at_save = []

    def save_checkpoint(self, out_dir, filename, file_client_args=None, *, meta=None,
                        backend_args=None, **kwargs):
        self.seen_at_save.append(sorted(os.listdir(out_dir)))
        save_checkpoint({'state_dict': {'w': torch.ones(3)}, 'meta': meta},
                        osp.join(out_dir, filename), backend_args=backend_args)


def _hook(**kwargs):
    return HOOKS.build(dict(type='CrashSafeCheckpointHook', interval=1, by_epoch=False,
                            **kwargs))


def test_saves_atomically_then_points_then_removes_the_oldest(tmp_path, monkeypatch):
    written = []
    real = checkpoints_module.write_atomic

    def spy(data, path, **kw):
        written.append(osp.basename(path))
        return real(data, path, **kw)

    monkeypatch.setattr(checkpoints_module, 'write_atomic', spy)
    runner, hook = _Runner(tmp_path), _hook(max_keep_ckpts=1)
    assert isinstance(hook, CrashSafeCheckpointHook)
    assert hook.backend_args == dict(backend='atomic_local')
    hook.before_train(runner)
    assert type(hook.file_backend) is AtomicLocalBackend
    for step in (1, 2, 3):
        hook._save_checkpoint_with_step(runner, step, meta=dict(iter=step))
        assert open(tmp_path / 'last_checkpoint').read() == str(tmp_path / f'iter_{step}.pth')
    # the previous checkpoint was still there while the next one was written
    assert runner.seen_at_save == [[], ['iter_1.pth', 'last_checkpoint'],
                                   ['iter_2.pth', 'last_checkpoint']]
    assert sorted(os.listdir(tmp_path)) == ['iter_3.pth', 'last_checkpoint']
    assert written == ['iter_1.pth', 'iter_2.pth', 'iter_3.pth']  # through write_atomic
    assert runner.message_hub.get_info('keep_ckpt_ids') == [3]
    assert torch.load(tmp_path / 'iter_3.pth')['meta'] == dict(iter=3)


def test_a_save_cut_short_leaves_the_previous_checkpoint_named(tmp_path):
    runner, hook = _Runner(tmp_path), _hook(max_keep_ckpts=1)
    hook.before_train(runner)
    hook._save_checkpoint_with_step(runner, 1, meta={})

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # stands for kill -9 after the bytes, before the rename

    with pytest.MonkeyPatch.context() as m:
        m.setattr(os, 'replace', killed)
        with pytest.raises(KeyboardInterrupt):
            hook._save_checkpoint_with_step(runner, 2, meta={})
    assert sorted(os.listdir(tmp_path)) == ['iter_1.pth', 'last_checkpoint']
    assert open(tmp_path / 'last_checkpoint').read() == str(tmp_path / 'iter_1.pth')


def test_other_backends_and_out_dirs_are_left_alone():
    assert _hook(out_dir='s3://bucket/run').backend_args is None
    assert _hook(backend_args=dict(backend='local')).backend_args == dict(backend='local')
    assert _hook(out_dir='/data/ckpts').backend_args == dict(backend='atomic_local')


def test_the_hda_configs_name_the_crash_safe_components():
    from conftest import DEMO_CFG

    from hda_plugin.utils.config import load_config
    cfg = load_config(DEMO_CFG)
    assert cfg.default_hooks.checkpoint.type == 'CrashSafeCheckpointHook'
    assert cfg.default_hooks.checkpoint.max_keep_ckpts == 2  # the demo's own settings kept
    assert cfg.runner_type == 'CrashSafeRunner'


def _fake_runner(work_dir, resume=True, load_from=None):
    resumed = []
    fake = types.SimpleNamespace(
        _has_loaded=False, _resume=resume, _load_from=load_from, work_dir=str(work_dir),
        logger=MMLogger.get_instance('hda_test_ckpt_hook'), resume=resumed.append)
    return fake, resumed


def test_auto_resume_skips_a_cut_checkpoint_and_an_empty_pointer(tmp_path):
    torch.save({'state_dict': {'w': torch.ones(1000)}}, tmp_path / 'iter_4.pth')
    torch.save({'state_dict': {'w': torch.ones(1000)}}, tmp_path / 'iter_5.pth')
    cut = (tmp_path / 'iter_5.pth').read_bytes()[:3000]
    (tmp_path / 'iter_5.pth').write_bytes(cut)  # a save that did not finish
    (tmp_path / 'last_checkpoint').write_text('')
    fake, resumed = _fake_runner(tmp_path)
    CrashSafeRunner.load_or_resume(fake)
    assert resumed == [str(tmp_path / 'iter_4.pth')] and fake._has_loaded


def test_auto_resume_with_nothing_to_resume_starts_anew(tmp_path):
    fake, resumed = _fake_runner(tmp_path)
    CrashSafeRunner.load_or_resume(fake)
    assert resumed == [] and not fake._has_loaded
