"""The shared edge of the scripts: atomic writes."""

import errno
import os

import pytest

from digits.cli import InputError, write_atomically


def test_atomic_write_replaces_the_whole_file(tmp_path):
    target = tmp_path / "model.npz"
    target.write_bytes(b"old")
    write_atomically(target, lambda f: f.write(b"new contents"))
    assert target.read_bytes() == b"new contents"
    assert os.listdir(tmp_path) == ["model.npz"]


@pytest.mark.parametrize("failure, reported_as, message", [
    (OSError(errno.ENOSPC, "No space left on device"), InputError,
     "cannot write .*model.npz: No space left on device"),  # a full disk
    (KeyboardInterrupt(), KeyboardInterrupt, None),  # Ctrl-C while writing
])
def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, failure, reported_as, message):
    target = tmp_path / "model.npz"
    target.write_bytes(b"old")

    def write_then_fail(f):
        f.write(b"half")
        raise failure

    with pytest.raises(reported_as, match=message):
        write_atomically(target, write_then_fail)
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["model.npz"]


def test_a_missing_folder_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="cannot write"):
        write_atomically(tmp_path / "no" / "such" / "file.png", lambda f: f.write(b"x"))
