"""Freezing and thawing a container's processes through its cgroup (pause,
resume): the v1 freezer's freezer.state, or cgroup2's cgroup.freeze.

create records which of those files the container has
(cgroups.freezer_files); on a hybrid host both, and the v1 freezer is the
one used, as runc does.  The status check (pyoci.state) reads them too.
"""
import time

from pyoci.cgroups import write_file
from pyoci.core.errors import PyociError

# file name -> (what to write to freeze, to thaw)
WRITES = {"freezer.state": ("FROZEN", "THAWED"), "cgroup.freeze": ("1", "0")}


def _read(path):
    with open(path) as f:
        return f.read()


def _is_frozen(path):
    """The kernel's word that every process is frozen: freezer.state reads
    FROZEN (FREEZING while it is under way); cgroup.events says frozen 1."""
    if path.endswith("freezer.state"):
        return _read(path).strip() == "FROZEN"
    events = _read(path[: -len("cgroup.freeze")] + "cgroup.events")
    return "frozen 1" in events.split("\n")


def freeze(freezers, what, timeout=10.0):
    """Freeze through the first freezer file; returns once it is done.
    A v1 freezer can stall in FREEZING behind a task in an uninterruptible
    sleep: the write is repeated until the deadline (as runc retries), then
    the cgroup is thawed again and the pause fails."""
    if not freezers:
        raise PyociError(f"{what}: the container has no freezer cgroup")
    path = freezers[0]
    name = path.rpartition("/")[2]
    deadline = time.monotonic() + timeout
    while True:
        write_file(path, WRITES[name][0])
        if _is_frozen(path):
            return
        if time.monotonic() > deadline:
            write_file(path, WRITES[name][1])
            raise PyociError(f"{what}: the container did not freeze within {timeout:g} s")
        time.sleep(0.001)


def thaw(freezers):
    """Thaw through every freezer file (whichever froze it)."""
    for path in freezers:
        write_file(path, WRITES[path.rpartition("/")[2]][1])
