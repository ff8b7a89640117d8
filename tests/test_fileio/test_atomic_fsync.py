"""``commit`` flushes the folder after the rename, so the new name survives a power loss."""
import os
import stat

import hda_plugin.fileio.atomic as atomic
from hda_plugin.fileio.atomic import write_atomic


def test_commit_fsyncs_the_file_then_its_folder(tmp_path, monkeypatch):
    synced, real_fsync = [], os.fsync

    def recording_fsync(fd):
        st = os.fstat(fd)
        synced.append((st.st_dev, st.st_ino))
        real_fsync(fd)

    monkeypatch.setattr(atomic.os, 'fsync', recording_fsync)
    folder = tmp_path / 'out'
    write_atomic(b'data', str(folder / 'result.json'))
    ino = lambda p: (os.stat(p).st_dev, os.stat(p).st_ino)  # noqa: E731
    # the staged file (renamed, same inode) first, then the folder holding the new name
    assert synced == [ino(folder / 'result.json'), ino(folder)]


def test_a_folder_that_cannot_be_synced_is_no_error(tmp_path, monkeypatch):
    real_fsync = os.fsync

    def refusing_fsync(fd):
        if stat.S_ISDIR(os.fstat(fd).st_mode):  # as some filesystems and platforms do
            raise OSError(22, 'Invalid argument')
        real_fsync(fd)

    monkeypatch.setattr(atomic.os, 'fsync', refusing_fsync)
    write_atomic(b'data', str(tmp_path / 'r.bin'))
    assert (tmp_path / 'r.bin').read_bytes() == b'data'
