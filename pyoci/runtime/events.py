"""`events`: a container's resource use as runc prints it, once (--stats)
or every --interval until the container stops, with an "oom" event each
time the OOM killer has struck in its cgroup since the last look."""
import sys
import time

from pyoci import cgroups
from pyoci.cgroups.stats import collect, oom_kills
from pyoci.errors import WrongState
from pyoci.jsonio import dumps
from pyoci.state import Container


def _emit(event):
    sys.stdout.write(dumps(event) + "\n")
    sys.stdout.flush()


def events(root, container_id, stats_only, interval):
    container = Container(root, container_id)
    container.load()
    # As runc: a stopped container has no stats to give, --stats or not.
    if container.status() == "stopped":
        raise WrongState(f"container with id {container_id} is not running")
    dirs = container.record.get("cgroup", {}).get("dirs", {})
    found = cgroups.hierarchies()
    # A rootless container may have no cgroup in some hierarchies (pyoci.cgroups.delegation).
    memory_v1 = next((dirs.get(h.mountpoint) for h in found if not h.v2 and "memory" in h.controllers), None)
    v2 = next((dirs.get(h.mountpoint) for h in found if h.v2), None)
    if stats_only:
        _emit({"type": "stats", "id": container_id, "data": collect(dirs, found)})
        return
    kills = oom_kills(memory_v1, v2)
    while container.init_alive():
        now = oom_kills(memory_v1, v2)
        if now > kills:
            _emit({"type": "oom", "id": container_id})
            kills = now
        _emit({"type": "stats", "id": container_id, "data": collect(dirs, found)})
        time.sleep(interval)
