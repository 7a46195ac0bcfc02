"""`events`: a container's resource use as runc prints it, once (--stats)
or every --interval until the container stops, with an "oom" event each
time the OOM killer has struck in its cgroup since the last look.

The cgroup sections come from pyoci.cgroups.stats; this module adds the
two that are not the cgroups': intel_rdt and network_interfaces."""
import sys
import time

from pyoci import cgroups
from pyoci.cgroups.stats import collect, oom_kills
from pyoci.core.errors import WrongState
from pyoci.core.jsonio import dumps
from pyoci.state import Container

# runc's types.NetworkInterface has no json tags, so Go writes its field
# names.  /proc/<pid>/net/dev has, after each interface's name, eight
# receive then eight transmit counters; these are the four of each runc
# reports, by their place.  runc reads a host-side veth and swaps rx and tx;
# read in the container's namespace, rx is already what it received.
INTERFACE_COUNTERS = (("RxBytes", 0), ("RxPackets", 1), ("RxErrors", 2), ("RxDropped", 3),
                      ("TxBytes", 8), ("TxPackets", 9), ("TxErrors", 10), ("TxDropped", 11))


def _emit(event):
    sys.stdout.write(dumps(event) + "\n")
    sys.stdout.flush()


def _own_network(container):
    """The container's network namespace's net/dev file, open, when it made
    a namespace of its own (runc too configures networks only in a
    namespace it made: a joined one is someone else's to account for); None
    otherwise or once the init is gone."""
    namespaces = container.record.get("exec", {}).get("linux", {}).get("namespaces", [])
    if not any(ns["type"] == "network" and not ns.get("path") for ns in namespaces):
        return None
    try:
        # The file shows the namespace of the process it was opened through,
        # for as long as it is open: no setns, and nothing a rootless caller
        # may not read.
        net_dev = open(f"/proc/{container.record['pid']}/net/dev", "rb")
    except OSError:
        return None
    # Checked after the open: a pid reused since would have shown another namespace.
    if not container.init_alive():
        net_dev.close()
        return None
    return net_dev


def interfaces(net_dev):
    """runc's network_interfaces: every interface of the namespace, as
    the open net/dev file shows it now."""
    net_dev.seek(0)
    found = []
    for line in net_dev.read().decode(errors="surrogateescape").splitlines()[2:]:  # two header lines
        name, _, counters = line.partition(":")
        values = [int(v) for v in counters.split()]
        found.append({"Name": name.strip(), **{key: values[at] for key, at in INTERFACE_COUNTERS}})
    return found


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
    net_dev = _own_network(container)

    def stats():
        data = collect(dirs, found)
        # pyoci refuses linux.intelRdt, so there is no resctrl group: runc's zero IntelRdt.
        data["intel_rdt"] = {}
        data["network_interfaces"] = None if net_dev is None else interfaces(net_dev)
        return {"type": "stats", "id": container_id, "data": data}

    if stats_only:
        _emit(stats())
        return
    kills = oom_kills(memory_v1, v2)
    while container.init_alive():
        now = oom_kills(memory_v1, v2)
        if now > kills:
            _emit({"type": "oom", "id": container_id})
            kills = now
        _emit(stats())
        time.sleep(interval)
