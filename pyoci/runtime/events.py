"""`events`: a container's resource use as runc prints it, once (--stats)
or every --interval until the container stops, with an "oom" event each
time the OOM killer has struck in its cgroup since the last look.

The cgroup sections come from pyoci.cgroups.stats; this module adds the
two that are not the cgroups': intel_rdt and network_interfaces."""
import posix  # not os: see pyoci.paths
import sys
import time

from pyoci import cgroups
from pyoci.cgroups.stats import collect, oom_kills
from pyoci.errors import WrongState
from pyoci.jsonio import dumps
from pyoci.state import Container

# runc's types.NetworkInterface has no json tags, so Go writes its field
# names; each is the IFLA_STATS64 counter beside it.  runc reads a host-side
# veth and swaps rx and tx; read inside the container's namespace, rx is
# already what the container received.
INTERFACE_COUNTERS = (("RxBytes", "rx_bytes"), ("RxPackets", "rx_packets"), ("RxErrors", "rx_errors"),
                      ("RxDropped", "rx_dropped"), ("TxBytes", "tx_bytes"), ("TxPackets", "tx_packets"),
                      ("TxErrors", "tx_errors"), ("TxDropped", "tx_dropped"))


def _emit(event):
    sys.stdout.write(dumps(event) + "\n")
    sys.stdout.flush()


def _own_network(container):
    """An fd of the container's network namespace when it made one of its
    own (runc too configures networks only in a namespace it made: a joined
    one is someone else's to account for); None otherwise or once the init
    is gone."""
    namespaces = container.record.get("exec", {}).get("linux", {}).get("namespaces", [])
    if not any(ns["type"] == "network" and not ns.get("path") for ns in namespaces):
        return None
    try:
        fd = posix.open(f"/proc/{container.record['pid']}/ns/net", posix.O_RDONLY | posix.O_CLOEXEC)
    except OSError:
        return None
    # Checked after the open: a pid reused since would have given another namespace.
    if not container.init_alive():
        posix.close(fd)
        return None
    return fd


def interfaces(netns_fd):
    """runc's network_interfaces: every interface of the namespace, by
    index; None where this caller may not enter it."""
    # pyroute2 costs a few hundred milliseconds: paid only for a container with a namespace of its own.
    from pyoci.network_devices import inside

    found = []

    def read():
        from pyroute2 import IPRoute

        # A netlink socket answers for the namespace it was opened in: this one, the container's.
        with IPRoute() as ipr:
            for link in sorted(ipr.get_links(), key=lambda link: link["index"]):
                counters = link.get_attr("IFLA_STATS64") or {}
                found.append({"Name": link.get_attr("IFLA_IFNAME"),
                              **{key: counters.get(counter, 0) for key, counter in INTERFACE_COUNTERS}})

    try:
        inside(netns_fd, read)
    except PermissionError:
        # setns needs CAP_SYS_ADMIN in the caller's own user namespace too,
        # which a rootless caller lacks: nothing to report, as from runc.
        return None
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
    netns = _own_network(container)

    def stats():
        data = collect(dirs, found)
        # pyoci refuses linux.intelRdt, so there is no resctrl group: runc's zero IntelRdt.
        data["intel_rdt"] = {}
        data["network_interfaces"] = None if netns is None else interfaces(netns)
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
