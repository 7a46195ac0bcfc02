"""linux.netDevices: host network interfaces moved into the container's
network namespace (create, once the init exists and before the hooks).

What the spec asks, in order: the device must exist and be movable; it is
moved (and renamed, where `name` says so; a name ending in %d lets the
kernel pick a free one); its permanent addresses of global scope, which the
move drops, are added again inside; it is set up.  Nothing moves it back:
when the namespace goes, the kernel returns a physical device to the host
and destroys a virtual one, and the spec forbids the runtime to interfere.

pyroute2 is imported here only, for the configs that ask for devices: its
import is a cost no other create should pay (see bench/README.md).
"""
import errno
import posix  # not os: see pyoci.core.paths

from pyoci._constants import IFA_F_PERMANENT, RT_SCOPE_UNIVERSE
from pyoci.core.procfs import open_namespace
from pyoci.launch import native
from pyoci.core.errors import ConfigError, PyociError
from pyoci.plan.namespaces import FLAGS, namespace_types


def check_devices(config):
    """Before anything is made: a network namespace of the container's own
    to move into, and every device present on the host."""
    devices = config.get("linux", {}).get("netDevices")
    if not devices:
        return
    if "network" not in namespace_types(config):
        raise ConfigError("linux.netDevices: needs a network namespace; the host's would move nothing")
    present = set(posix.listdir("/sys/class/net"))
    for host_name, device in devices.items():
        if host_name not in present:
            raise ConfigError(f"linux.netDevices.{host_name}: no such network device on the host")
        name = device.get("name", host_name)
        if "/" in name or len(name) > 15:
            raise ConfigError(f"linux.netDevices.{host_name}.name: {name!r} is not a valid interface name")


def move_devices(devices, pid):
    """Move each device into the network namespace of process pid."""
    from pyroute2 import IPRoute
    from pyroute2.netlink.exceptions import NetlinkError

    target = open_namespace(pid, "net")
    try:
        moved = []
        with IPRoute() as host:
            for host_name, device in devices.items():
                field = f"linux.netDevices.{host_name}"
                index = _index(host, host_name, field)
                addresses = [_address(msg) for msg in host.get_addr(index=index)
                             if msg.get_attr("IFA_FLAGS", msg["flags"]) & IFA_F_PERMANENT
                             and msg["scope"] == RT_SCOPE_UNIVERSE]
                name = device.get("name", host_name)
                try:
                    host.link("set", index=index, net_ns_fd=target, ifname=name)
                except NetlinkError as e:
                    if e.code == errno.EEXIST:
                        raise PyociError(f"{field}: the container's network namespace already has a device "
                                         f"named {name}") from None
                    raise PyociError(f"{field}: moving it into the container: {_reason(e)}") from None
                # A name template (eth%d) is the kernel's to fill; the index stays with
                # the device unless the namespace already uses it.
                moved.append((field, {"index": index} if "%d" in name else {"ifname": name}, addresses))
        inside(target, lambda: _set_up(moved))
    finally:
        posix.close(target)


def _index(ipr, name, field):
    found = ipr.link_lookup(ifname=name)
    if not found:
        raise PyociError(f"{field}: no such network device on the host")
    return found[0]


def _address(msg):
    return {"address": msg.get_attr("IFA_ADDRESS"), "prefixlen": msg["prefixlen"],
            "local": msg.get_attr("IFA_LOCAL"), "broadcast": msg.get_attr("IFA_BROADCAST")}


def inside(target, action):
    """Run action with this (single-threaded) process in the network
    namespace target (an fd), and come back."""
    own = open_namespace("self", "net")
    try:
        native.setns(target, FLAGS["network"])
        try:
            action()
        finally:
            native.setns(own, FLAGS["network"])
    finally:
        posix.close(own)


def _set_up(moved):
    from pyroute2 import IPRoute
    from pyroute2.netlink.exceptions import NetlinkError

    # A netlink socket belongs to the namespace it was opened in: this one, the container's.
    with IPRoute() as inside:
        for field, lookup, addresses in moved:
            found = inside.link_lookup(**lookup)
            if not found:
                raise PyociError(f"{field}: not found in the container after the move")
            index = found[0]
            try:
                for addr in addresses:
                    inside.addr("add", index=index, **{k: v for k, v in addr.items() if v is not None})
                inside.link("set", index=index, state="up")
            except NetlinkError as e:
                raise PyociError(f"{field}: setting it up in the container: {_reason(e)}") from None


def _reason(error):
    return posix.strerror(error.code).lower() if error.code > 0 else str(error)
