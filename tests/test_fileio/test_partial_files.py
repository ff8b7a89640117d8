"""Resume removes the staged files of saves that died, and nothing else of the work dir."""
import os

import pytest
import torch

from hda_plugin.engine.checkpoints import find_resumable_checkpoint
from hda_plugin.engine.work_dir_lock import process_alive
from hda_plugin.fileio.atomic import write_atomic

DEAD = 3999999


def test_resume_removes_only_the_partial_files_hda_ssd_writes(tmp_path):
    if process_alive(DEAD):
        pytest.skip(f'process {DEAD} exists on this machine')
    torch.save({'state_dict': {'w': torch.ones(3)}}, tmp_path / 'iter_1.pth')
    mine = [f'model.pth.part{DEAD}', f'iter_2.pth.part{DEAD}', f'last_checkpoint.part{DEAD}']
    users = [f'notes.part{DEAD}', f'model.pth.part{DEAD}.bak', f'data.json.part{DEAD}',
             f'last_checkpoint.part{DEAD}x', f'model.pth.partial{DEAD}']
    for name in mine + users:
        (tmp_path / name).write_bytes(b'')
    live = f'iter_3.pth.part{os.getpid()}'  # a save in progress
    (tmp_path / live).write_bytes(b'PK')
    assert find_resumable_checkpoint(str(tmp_path)) == str(tmp_path / 'iter_1.pth')
    assert sorted(os.listdir(tmp_path)) == sorted(['iter_1.pth', live] + users)


def test_the_names_removed_are_the_names_saves_stage(tmp_path, monkeypatch):
    """The staged names come from write_atomic itself: a save killed between writing and
    renaming leaves exactly what resume removes."""
    if process_alive(DEAD):
        pytest.skip(f'process {DEAD} exists on this machine')
    staged = []
    monkeypatch.setattr(os, 'replace', lambda src, dst: staged.append(src))
    monkeypatch.setattr(os, 'getpid', lambda: DEAD)
    for name in ('iter_7.pth', 'last_checkpoint'):
        write_atomic(b'x', str(tmp_path / name))
    monkeypatch.undo()
    assert sorted(os.path.basename(s) for s in staged) == [f'iter_7.pth.part{DEAD}',
                                                          f'last_checkpoint.part{DEAD}']
    # write_atomic's finally removes a part that was not renamed: stage them again by hand
    for s in staged:
        open(s, 'wb').close()
    find_resumable_checkpoint(str(tmp_path))
    assert os.listdir(tmp_path) == []
