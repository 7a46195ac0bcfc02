"""What a caller hands on and what the child reports back, checked before
the runtime acts on it (pyoci.runtime.passed_fds, pyoci.launch.native.reported_pid,
pyoci.state.atomic_write).  The attacks themselves, on real containers, are
in tests/integration/test_trust_boundaries.py."""
import os
import struct
import subprocess

import pytest

from pyoci.launch import native, sync
from pyoci.core.errors import PyociError
from pyoci.runtime import passed_fds
from pyoci.state import atomic_write


def test_listen_fds_count_only_for_this_process(monkeypatch):
    monkeypatch.setitem(os.environ, "LISTEN_FDS", "1")
    monkeypatch.setitem(os.environ, "LISTEN_PID", "1")
    assert passed_fds.listen_fds() == 0
    monkeypatch.delitem(os.environ, "LISTEN_PID")
    assert passed_fds.listen_fds() == 0
    monkeypatch.setitem(os.environ, "LISTEN_PID", str(os.getpid()))
    monkeypatch.setitem(os.environ, "LISTEN_FDS", "0")
    assert passed_fds.listen_fds() == 0


def test_a_passed_fd_must_be_open():
    read_end, write_end = os.pipe()
    try:
        first = min(read_end, write_end)
        if first + 1 == max(read_end, write_end):
            passed_fds.check_open(first, 2, "--preserve-fds")
    finally:
        os.close(read_end)
        os.close(write_end)
    with pytest.raises(PyociError, match=f"--preserve-fds 1: fd {read_end} is not open"):
        passed_fds.check_open(read_end, 1, "--preserve-fds")


def message(pid):
    """A MSG_PID as struct pyoci_msg: int type, length, step, err, status, pid; char label[500]."""
    return sync.decode(struct.pack("=6i500s", sync.MSG_PID, sync.SIZE, -1, 0, 0, pid, b""))


def test_a_reported_pid_must_be_the_clones_child_or_ours():
    child = subprocess.Popen(["sleep", "10"])
    try:
        assert native.reported_pid(message(0), 4242) == 4242  # the clone itself
        assert native.reported_pid(message(child.pid), 4242) == child.pid  # ours, as subreaper
        with pytest.raises(PyociError, match="reported pid 1, which it did not start"):
            native.reported_pid(message(1), 4242)
    finally:
        child.kill()
        child.wait()


def test_atomic_write_replaces_a_planted_link_and_never_follows_one(tmp_path):
    target = tmp_path / "precious"
    target.write_text("precious\n")
    os.symlink(target, tmp_path / "pid")
    atomic_write(str(tmp_path / "pid"), "123")
    assert target.read_text() == "precious\n"
    assert (tmp_path / "pid").read_text() == "123" and not os.path.islink(tmp_path / "pid")
    assert sorted(os.listdir(tmp_path)) == ["pid", "precious"]  # no temporary file left
