"""Auto-resume trusts what ``last_checkpoint`` names when it cannot be checked locally: a
remote path or a directory (DeepSpeed), as MMEngine's ``find_latest_checkpoint`` does."""
import torch

from hda_plugin.engine.checkpoints import find_resumable_checkpoint, is_complete_checkpoint


def _older_complete_checkpoint(work_dir):
    torch.save({'state_dict': {'w': torch.ones(10)}}, work_dir / 'iter_4.pth')


def test_a_remote_checkpoint_named_by_last_checkpoint_is_resumed(tmp_path):
    _older_complete_checkpoint(tmp_path)
    remote = 's3://bucket/work_dirs/hda/iter_8.pth'
    (tmp_path / 'last_checkpoint').write_text(remote)
    assert is_complete_checkpoint(remote)
    assert find_resumable_checkpoint(str(tmp_path)) == remote


def test_a_directory_checkpoint_named_by_last_checkpoint_is_resumed(tmp_path):
    _older_complete_checkpoint(tmp_path)
    ds = tmp_path / 'iter_8.pth'  # DeepSpeed saves a checkpoint as a folder
    ds.mkdir()
    (ds / 'mp_rank_00_model_states.pt').write_bytes(b'x')
    (tmp_path / 'last_checkpoint').write_text(str(ds))
    assert find_resumable_checkpoint(str(tmp_path)) == str(ds)


def test_a_cut_local_checkpoint_is_still_skipped(tmp_path):
    _older_complete_checkpoint(tmp_path)
    (tmp_path / 'iter_8.pth').write_bytes((tmp_path / 'iter_4.pth').read_bytes()[:100])
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_8.pth'))
    assert not is_complete_checkpoint(str(tmp_path / 'iter_8.pth'))
    assert find_resumable_checkpoint(str(tmp_path)) == str(tmp_path / 'iter_4.pth')
