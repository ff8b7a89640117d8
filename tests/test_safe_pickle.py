"""No checkpoint or results file runs code on load (hda_plugin/safe_pickle.py)."""
import os
import os.path as osp
import pathlib
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import DEMO_CFG, ROOT, run_env

from hda_plugin.safe_pickle import TRUST_ENV, UnsafeFileError, load_pickle, safe_torch_load


class _Payload:
    """Unpickling this creates the marker file: what a malicious checkpoint would do."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.marker), ))


@pytest.fixture
def hostile(tmp_path):
    marker = tmp_path / 'PAYLOAD_RAN'
    pth = tmp_path / 'hostile.pth'
    torch.save({'state_dict': {'backbone.w': torch.ones(2)}, 'meta': {'x': _Payload(marker)}},
               pth)
    pkl = tmp_path / 'hostile.pkl'
    with open(pkl, 'wb') as f:
        pickle.dump([{'img_path': 'a.jpg', 'pred_instances': {}}, _Payload(marker)], f)
    return str(pth), str(pkl), marker


def _mmengine_like_checkpoint(path):
    from mmengine.logging import MessageHub
    hub = MessageHub.get_instance('hda_safe_pickle_test')
    hub.update_scalar('train/loss', 1.5)
    hub.update_info('iter', 3)
    torch.save({'state_dict': {'w': torch.ones(2)}, 'message_hub': hub.state_dict(),
                'meta': {'iter': 3, 'seed': np.int64(3), 'hist': np.arange(3, dtype=np.float32),
                         'dataset_meta': {'classes': ('person', )}},
                'optimizer': {'state': {}, 'param_groups': [{'lr': 0.1, 'params': [0]}]}},
               path)


@pytest.mark.parametrize('safe_globals_api', [True, False], ids=['torch>=2.4', 'torch-2.1'])
def test_mmengine_checkpoints_load_and_payloads_do_not_run(hostile, tmp_path, monkeypatch,
                                                           safe_globals_api):
    """Both paths: torch's weights_only with the allowlist, and (torch 2.1 has no
    safe_globals, simulated by removing it) the restricted unpickler."""
    if not safe_globals_api:
        monkeypatch.delattr(torch.serialization, 'safe_globals')
        monkeypatch.delattr(torch.serialization, 'add_safe_globals')
    from mmengine.runner.checkpoint import _load_checkpoint
    good = str(tmp_path / 'iter_3.pth')
    _mmengine_like_checkpoint(good)
    ckpt = _load_checkpoint(good, map_location='cpu')  # load_from, --resume, tools/test.py
    assert ckpt['meta']['iter'] == 3 and int(ckpt['meta']['seed']) == 3
    assert type(ckpt['message_hub']['log_scalars']['train/loss']).__name__ == 'HistoryBuffer'
    pth, pkl, marker = hostile
    with pytest.raises(UnsafeFileError, match=r'hostile\.pth: refers to pathlib\.Path'):
        _load_checkpoint(pth, map_location='cpu')
    from hda_plugin.weights import load_state_dict_file  # the converters, the weights hook
    with pytest.raises(UnsafeFileError, match='hostile.pth') as e:
        load_state_dict_file(pth)
    assert TRUST_ENV in str(e.value)
    from hda_plugin.evaluation.results import load_results  # plot_curves, browse_dataset
    with pytest.raises(UnsafeFileError, match=r'hostile\.pkl: refers to pathlib\.Path\.touch'):
        load_results(pkl)
    assert not marker.exists()


class _Getattr:
    def __init__(self, obj, name):
        self.obj, self.name = obj, name

    def __reduce__(self):
        return (getattr, (self.obj, self.name))


def test_a_getattr_payload_beyond_history_buffers_is_refused(tmp_path):
    """MMEngine's history buffers need getattr(HistoryBuffer, 'min'); nothing else may
    (getattr on an allowed type is the first step of most pickle exploits)."""
    from mmengine.logging.history_buffer import HistoryBuffer
    ok, bad = tmp_path / 'ok.pkl', tmp_path / 'bad.pkl'
    ok.write_bytes(pickle.dumps(_Getattr(HistoryBuffer, 'min')))
    assert load_pickle(str(ok)) is HistoryBuffer.min
    for obj, name in ((np.ndarray, 'tofile'), (HistoryBuffer, '__init__'),
                      (torch.Size, '__class__')):
        bad.write_bytes(pickle.dumps(_Getattr(obj, name)))
        with pytest.raises(UnsafeFileError, match='is not allowed'):
            load_pickle(str(bad))


def test_converter_outputs_load_safely_and_trust_is_explicit(hostile, tmp_path, monkeypatch,
                                                             recwarn):
    pth, _, marker = hostile
    monkeypatch.setenv(TRUST_ENV, pth)
    ckpt = safe_torch_load(pth)  # the user named it: full pickle, loudly
    assert marker.exists() and 'state_dict' in ckpt
    assert any(TRUST_ENV in str(w.message) and 'can run any code' in str(w.message)
               for w in recwarn)


def test_tools_refuse_a_hostile_checkpoint(hostile, synthetic_release):
    pth, pkl, marker = hostile
    p = subprocess.run(
        [sys.executable, 'tools/test.py', DEMO_CFG, pth, '--cfg-options',
         f'test_dataloader.dataset.data_root={synthetic_release}',
         'test_dataloader.dataset.cameras=[19]', 'test_dataloader.num_workers=0',
         'test_dataloader.persistent_workers=False'],
        cwd=ROOT, env=run_env(), capture_output=True, text=True, timeout=600)
    assert p.returncode != 0 and 'hostile.pth: refers to pathlib.Path' in p.stdout + p.stderr
    out = osp.join(osp.dirname(pth), 'out.pth')
    for cmd in (['tools/model_converters/ssd_to_person.py', pth, out, '--source', 'coco'],
                ['tools/model_converters/torchvision_vgg16_to_mmdet.py', pth, out],
                ['tools/analysis/plot_curves.py', DEMO_CFG, pkl, '--out-dir',
                 osp.join(osp.dirname(pth), 'curves'), '--cfg-options',
                 f'test_dataloader.dataset.data_root={synthetic_release}',
                 'test_dataloader.dataset.cameras=[19]']):
        p = subprocess.run([sys.executable, *cmd], cwd=ROOT, env=run_env(),
                           capture_output=True, text=True, timeout=600)
        assert p.returncode != 0 and 'hostile.p' in p.stdout + p.stderr, (cmd, p.stderr[-2000:])
        assert 'refers to pathlib.Path' in p.stdout + p.stderr, cmd
    assert not marker.exists() and not os.path.exists(out)


def test_truncated_or_empty_checkpoint_names_the_file(tmp_path):
    from mmengine.runner.checkpoint import _load_checkpoint

    from hda_plugin.safe_pickle import CorruptCheckpointError
    good = tmp_path / 'iter_2.pth'
    torch.save({'state_dict': {'w': torch.ones(1000)}}, good)
    data = good.read_bytes()
    (tmp_path / 'cut.pth').write_bytes(data[:len(data) // 2])
    (tmp_path / 'empty.pth').write_bytes(b'')
    for name in ('cut.pth', 'empty.pth'):
        with pytest.raises(CorruptCheckpointError, match=rf'{name}: not a complete PyTorch '
                                                         r'checkpoint .*truncated'):
            _load_checkpoint(str(tmp_path / name), map_location='cpu')
