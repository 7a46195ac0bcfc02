"""cgroups.warm_migrations: the runtime's no-op migrations into its own
cgroup, against a directory tree standing in for the hierarchy (the real
effect, a cheap join, is a timing and is measured in bench/)."""
import os
import time

from pyoci.cgroups import Hierarchy, own_cgroups, own_path, warm_migrations


def own_procs_file(root, v2=True):
    h = Hierarchy(str(root), frozenset(), v2)
    directory = root / own_path(h, own_cgroups()).lstrip("/")
    directory.mkdir(parents=True, exist_ok=True)
    procs = directory / "cgroup.procs"
    procs.write_text("")  # a cgroup's always exists
    return h, procs


def test_writes_its_own_pid_until_stopped(tmp_path):
    h, procs = own_procs_file(tmp_path)
    stop = warm_migrations([h])
    try:
        deadline = time.monotonic() + 5
        while not procs.read_text() and time.monotonic() < deadline:
            time.sleep(0.001)
        assert procs.read_text() == str(os.getpid())
    finally:
        stop()
    time.sleep(0.05)  # at most one write was under way
    procs.write_text("")
    time.sleep(0.05)
    assert procs.read_text() == ""


def test_a_cgroup_it_cannot_write_ends_it_quietly(tmp_path):
    h = Hierarchy(str(tmp_path / "not mounted"), frozenset(), True)
    started = time.monotonic()
    warm_migrations([h])()  # returns at once, raises nothing
    assert time.monotonic() - started < 1


def test_no_hierarchy_no_thread():
    warm_migrations([])()


def test_no_thread_to_be_had_means_no_warm_up(tmp_path, monkeypatch):
    import _thread

    def refuse(*_args):
        raise RuntimeError("can't start new thread")

    h, procs = own_procs_file(tmp_path)
    monkeypatch.setattr(_thread, "start_new_thread", refuse)
    warm_migrations([h])()
    assert procs.read_text() == ""
