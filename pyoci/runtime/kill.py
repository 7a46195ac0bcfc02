"""`kill`: signal a created, running or paused container's init (or, with
--all, every process in its cgroup).

The pid is checked against its recorded start time first, so a pid the
kernel has reused is never signalled.
"""
import posix  # not os: see pyoci.paths

from pyoci import cgroups
from pyoci.errors import WrongState
from pyoci.state import Container


def signal_container(container, sig, all_processes=False):
    pids = []
    if all_processes:
        pids = cgroups.pids(container.record.get("cgroup", {}).get("dirs", {}))
    if container.init_alive():
        pids = [container.record["pid"]] + [p for p in pids if p != container.record["pid"]]
    for pid in pids:
        try:
            posix.kill(pid, sig)
        except ProcessLookupError:
            pass
    return pids


def kill(root, container_id, sig, all_processes=False):
    container = Container(root, container_id)
    container.load()
    if container.status() == "stopped" and not (all_processes and cgroups.pids(container.record["cgroup"]["dirs"])):
        raise WrongState("container not running")
    signal_container(container, sig, all_processes)
