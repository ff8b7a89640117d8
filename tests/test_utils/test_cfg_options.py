"""Strict --cfg-options and the statement of which weights a training run uses."""
import os
import os.path as osp
import subprocess
import sys

import pytest
from conftest import ROOT, run_env
from mmengine.config import Config

from hda_plugin.utils import CfgOptionError, check_cfg_options
from hda_plugin.weights.report import explain_weights

DEMO_CFG = osp.join(ROOT, 'configs', 'ssdlite_mobilenetv2-w0.5_1xb8-1150it_synthetic-hda-cpu.py')


@pytest.fixture(scope='module')
def demo_cfg():
    return Config.fromfile(DEMO_CFG)


def test_existing_keys_pass_and_plus_adds_new_ones(demo_cfg):
    opts = {'optim_wrapper.optimizer.lr': 0.1, 'param_scheduler.1.end': 5,
            'train_dataloader.dataset.dataset.cameras': [17],
            '+optim_wrapper.optimizer.amsgrad': True}
    assert check_cfg_options(demo_cfg, opts) == {
        'optim_wrapper.optimizer.lr': 0.1, 'param_scheduler.1.end': 5,
        'train_dataloader.dataset.dataset.cameras': [17],
        'optim_wrapper.optimizer.amsgrad': True}


@pytest.mark.parametrize('key, suggestion', [
    ('model.bbox_head.num_class', 'model.bbox_head.num_classes'),
    ('optim_wrapper.optimizer.lrr', 'optim_wrapper.optimizer.lr'),
    ('train_dataloader.batch_sise', 'train_dataloader.batch_size'),
    ('param_scheduler.7.end', 'param_scheduler.1.end'),
    ('modle.bbox_head.num_classes', 'model.bbox_head.num_classes'),
])
def test_unknown_key_is_rejected_with_a_suggestion(demo_cfg, key, suggestion):
    with pytest.raises(CfgOptionError) as e:
        check_cfg_options(demo_cfg, {key: 1})
    msg = str(e.value)
    assert f'"{key}" does not exist' in msg
    assert f'Did you mean: "{suggestion}"' in msg or f'"{suggestion}"' in msg.split(
        'Did you mean:')[1]
    assert f'"+{key}=...' in msg  # the explicit way to add it


def test_key_below_a_non_dict_value_is_explained(demo_cfg):
    with pytest.raises(CfgOptionError, match='is 0.05, not a dict'):
        check_cfg_options(demo_cfg, {'optim_wrapper.optimizer.weight_decay.value': 1})


@pytest.mark.parametrize('tool', ['tools/train.py', 'tools/test.py',
                                  'tools/analysis/diagnose.py'])
def test_tools_reject_a_misspelled_option(tool, tmp_path):
    """Failure gallery case (c)."""
    args = [sys.executable, tool, DEMO_CFG]
    if tool == 'tools/test.py':
        ckpt = tmp_path / 'x.pth'
        ckpt.write_bytes(b'')
        args.append(str(ckpt))
    p = subprocess.run(args + ['--work-dir', str(tmp_path), '--cfg-options',
                               'optim_wrapper.optimizer.weight_decy=0'],
                       cwd=ROOT, env=run_env(), capture_output=True, text=True, timeout=300)
    assert p.returncode == 2, p.stderr[-3000:]
    assert ('error: --cfg-options key "optim_wrapper.optimizer.weight_decy" does not exist'
            in p.stderr)
    assert 'Did you mean: "optim_wrapper.optimizer.weight_decay"' in p.stderr
    assert not list(tmp_path.glob('*/*.log')), 'it must stop before building anything'


def _cfg(work_dir, load_from=None, pretrained=None):
    model = dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=pretrained)
                               if pretrained else None))
    return Config(dict(work_dir=str(work_dir), load_from=load_from, model=model))


def _ckpt(work_dir, n):
    os.makedirs(work_dir, exist_ok=True)
    path = osp.join(work_dir, f'iter_{n}.pth')
    open(path, 'wb').close()
    with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
        f.write(path)
    return path


def test_explain_weights_fresh_runs(tmp_path):
    level, msg = explain_weights(_cfg(tmp_path / 'w'), None)
    assert level == 'info' and 'random initialisation' in msg
    level, msg = explain_weights(_cfg(tmp_path / 'w', pretrained='vgg.pth'), None)
    assert level == 'info' and 'backbone: vgg.pth' in msg
    level, msg = explain_weights(_cfg(tmp_path / 'w', load_from='coco.pth'), None)
    assert level == 'info' and 'load_from=coco.pth (weights only' in msg


def test_explain_weights_checkpoints_without_resume(tmp_path):
    work = tmp_path / 'w'
    latest = _ckpt(work, 8)
    level, msg = explain_weights(_cfg(work, pretrained='vgg.pth'), None)
    assert level == 'warning'
    assert 'already holds 1 checkpoint(s)' in msg and latest in msg
    assert 'they are NOT used' in msg and 'Pass --resume' in msg


def test_explain_weights_resume_with_another_load_from(tmp_path):
    work = tmp_path / 'w'
    latest = _ckpt(work, 8)
    level, msg = explain_weights(_cfg(work, load_from='coco.pth'), 'auto')
    assert level == 'warning'
    assert f'resuming from {latest}' in msg and 'load_from=coco.pth from the config is NOT used' \
        in msg
    level, msg = explain_weights(_cfg(work, load_from='coco.pth'), str(tmp_path / 'other.pth'))
    assert level == 'warning' and 'other.pth' in msg and 'NOT used' in msg
    level, msg = explain_weights(_cfg(work), 'auto')
    assert level == 'info' and f'resuming from {latest}' in msg


def test_explain_weights_resume_with_nothing_to_resume(tmp_path):
    level, msg = explain_weights(_cfg(tmp_path / 'empty', load_from='coco.pth'), 'auto')
    assert level == 'warning' and 'holds no checkpoint, so nothing is resumed' in msg
    assert 'load_from=coco.pth is NOT used' in msg


def test_config_variable_override_is_an_error():
    """data_root=... on the command line changes nothing (the config copied it into the
    dataset dicts when it was read): an error naming the copies, not a silent no-op."""
    from mmengine.config import Config

    from hda_plugin.utils import CfgOptionError, check_cfg_options
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'ssd512_hda.py'))
    with pytest.raises(CfgOptionError, match=r'"data_root" is a variable of the config file.*'
                                             r'train_dataloader\.dataset\.dataset\.data_root'):
        check_cfg_options(cfg, {'data_root': '/data/hda'})
    with pytest.raises(CfgOptionError, match=r'model\.backbone\.init_cfg\.checkpoint'):
        check_cfg_options(cfg, {'backbone_weights': '/m/vgg.pth'})
    assert check_cfg_options(cfg, {'default_scope': 'mmdet', 'load_from': 'x.pth'}) == {
        'default_scope': 'mmdet', 'load_from': 'x.pth'}
    ok = {'train_dataloader.dataset.dataset.data_root': '/data/hda'}
    assert check_cfg_options(cfg, ok) == ok
    # any variable, not only strings: a list, and a key under a copied pipeline
    demo = Config.fromfile(DEMO_CFG)
    with pytest.raises(CfgOptionError, match=r'"heldout_cameras" is a variable.*copied into '
                                             r'val_dataloader\.dataset\.cameras'):
        check_cfg_options(demo, {'heldout_cameras': [19]})
    with pytest.raises(CfgOptionError, match=r'"train_pipeline" is a variable'):
        check_cfg_options(demo, {'train_pipeline.Resize.scale': (96, 64)})


# --- list items by type name --------------------------------------------------------------
def test_hooks_and_pipeline_steps_by_type_name(demo_cfg):
    hooks = [h['type'] for h in demo_cfg.custom_hooks]
    steps = [t['type'] for t in demo_cfg.train_dataloader.dataset.dataset.pipeline]
    pa, wh, rs = hooks.index('PositiveAnchorHook'), hooks.index('WeightHealthHook'), \
        steps.index('Resize')
    got = check_cfg_options(demo_cfg, {
        'custom_hooks.PositiveAnchorHook.patience': 5,
        'custom_hooks.WeightHealthHook.enabled': False,
        '+custom_hooks.WeightHealthHook.collapse_window': 3,
        'train_dataloader.dataset.dataset.pipeline.Resize.scale': (96, 64),
        f'custom_hooks.{pa}.enabled': True})  # index paths still work
    assert got == {f'custom_hooks.{pa}.patience': 5, f'custom_hooks.{wh}.enabled': False,
                   f'custom_hooks.{wh}.collapse_window': 3,
                   f'train_dataloader.dataset.dataset.pipeline.{rs}.scale': (96, 64),
                   f'custom_hooks.{pa}.enabled': True}
    cfg = demo_cfg.copy()
    cfg.merge_from_dict(got)
    assert cfg.custom_hooks[pa]['patience'] == 5 and cfg.custom_hooks[wh]['enabled'] is False


def test_unknown_or_ambiguous_type_name_lists_the_items(demo_cfg):
    with pytest.raises(CfgOptionError) as e:
        check_cfg_options(demo_cfg, {'custom_hooks.PositiveAnchorHok.patience': 3})
    msg = str(e.value)
    assert 'custom_hooks has no item of type "PositiveAnchorHok"' in msg
    assert 'did you mean "PositiveAnchorHook"' in msg
    assert 'WeightHealthHook (' in msg and 'NumClassCheckHook (0)' in msg
    cfg = demo_cfg.copy()
    cfg.custom_hooks = list(cfg.custom_hooks) + [dict(type='WeightHealthHook', interval=7)]
    with pytest.raises(CfgOptionError, match=r'holds 2 items of type "WeightHealthHook" '
                       r'\(indices \d+, \d+\); address one by its index'):
        check_cfg_options(cfg, {'custom_hooks.WeightHealthHook.interval': 1})


@pytest.mark.parametrize('tool', ['tools/train.py', 'tools/test.py',
                                  'tools/analysis/diagnose.py'])
def test_each_tool_resolves_hooks_by_name(tool, monkeypatch, tmp_path):
    """The tool's own parser and config loading: --cfg-options with a hook's type name."""
    import importlib.util
    spec = importlib.util.spec_from_file_location('tool_under_test', osp.join(ROOT, tool))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    argv = [tool, DEMO_CFG] + (['ckpt.pth'] if tool.endswith('test.py') else []) + [
        '--work-dir', str(tmp_path), '--cfg-options', 'custom_hooks.PositiveAnchorHook.patience=3']
    monkeypatch.setattr(sys, 'argv', argv)
    args = mod.parse_args()
    cfg = mod.config_from_args(args)
    hook = [h for h in cfg.custom_hooks if h['type'] == 'PositiveAnchorHook']
    assert len(hook) == 1 and hook[0]['patience'] == 3
    if tool.endswith('diagnose.py'):  # and the dry run keeps it (patience <= --iters)
        run_cfg = mod.dry_run_config(cfg, args)
        assert [h for h in run_cfg.custom_hooks
                if h['type'] == 'PositiveAnchorHook'][0]['patience'] == 3
    monkeypatch.setattr(sys, 'argv', argv[:-1] + ['custom_hooks.PositiveAnchor.patience=3'])
    with pytest.raises(SystemExit) as e:
        mod.config_from_args(mod.parse_args())
    assert e.value.code == 2


def test_library_never_imports_the_cli_module():
    import ast
    offenders = []
    for dirpath, _, files in os.walk(osp.join(ROOT, 'hda_plugin')):
        for name in files:
            path = osp.join(dirpath, name)
            if not name.endswith('.py') or path.endswith(osp.join('utils', 'cli.py')):
                continue
            for node in ast.walk(ast.parse(open(path).read())):
                mods = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module or ''] if isinstance(node, ast.ImportFrom) else []
                if any(m.split('.')[-1] in ('cli', 'argparse') for m in mods) or (
                        isinstance(node, ast.ImportFrom) and node.module in (None, 'utils', '')
                        and any(a.name == 'cli' for a in node.names)):
                    offenders.append(osp.relpath(path, ROOT))
    assert not offenders, offenders
