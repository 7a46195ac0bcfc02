"""linux.netDevices on real containers: a veth interface the test makes is
moved into the container's network namespace, renamed, with its permanent
global addresses and up; the host no longer has it; when the namespace goes
the kernel destroys it (a virtual device), as the spec says, and in a
namespace that outlives the container it stays.  Bad devices fail create
with the field named and nothing left behind.

The host side uses pyroute2 (pyoci's own dependency), not the `ip` binary,
which many hosts lack."""
import os
import uuid

import pytest
from pyroute2 import IPRoute, NetNS, netns as named_netns
from pyroute2.netlink.exceptions import NetlinkError

from test_isolation import run_probe

LINK_SCOPE = 253


def host_has(name, netns=None):
    with (NetNS(netns) if netns else IPRoute()) as ipr:
        return bool(ipr.link_lookup(ifname=name))


@pytest.fixture
def veth_end():
    """One end of a veth pair (the kernels here have no dummy driver) with a
    global and a link-scope address; the pair is deleted afterwards wherever
    it is left (deleting either end takes both)."""
    name = f"pd{uuid.uuid4().hex[:10]}"
    peer = f"pp{name[2:]}"
    with IPRoute() as ipr:
        ipr.link("add", ifname=name, kind="veth", peer=peer)
        index = ipr.link_lookup(ifname=name)[0]
        ipr.addr("add", index=index, address="10.213.7.9", prefixlen=24)
        ipr.addr("add", index=index, address="10.214.0.1", prefixlen=24, scope=LINK_SCOPE)
    yield name
    for end in (name, peer):
        # A namespace the test deleted just before destroys its end of the
        # pair in the kernel's own time, so the peer can vanish between the
        # look and the delete: only a device still there is a failure.
        with IPRoute() as ipr:
            for index in ipr.link_lookup(ifname=end):
                try:
                    ipr.link("del", index=index)
                except NetlinkError:
                    if host_has(end):
                        raise AssertionError(f"could not delete the test's device {end}") from None


@pytest.fixture
def netns():
    name = f"pyoci-{uuid.uuid4().hex[:10]}"
    named_netns.create(name)
    yield name
    named_netns.remove(name)


def with_devices(devices, extra_namespaces=()):
    def mutate(config):
        config["linux"]["netDevices"] = devices
        config["linux"]["namespaces"] += list(extra_namespaces)
    return mutate


def test_a_device_moves_renamed_with_its_global_addresses_and_up(runtime, veth_end):
    out = run_probe(runtime, "ip -o -4 addr show dev ctr0; ip -o link show ctr0",
                    mutate=with_devices({veth_end: {"name": "ctr0"}}))
    addresses, link = out.splitlines()[:-1], out.splitlines()[-1]
    assert [line.split()[3] for line in addresses] == ["10.213.7.9/24"], out
    assert "UP" in link.split("<")[1].split(">")[0].split(","), link
    # The container's namespace is gone, and with it the virtual device.
    assert not host_has(veth_end) and not host_has("ctr0")


def test_the_host_no_longer_has_the_device_while_the_container_runs(runtime, veth_end):
    cid = runtime.new_id()
    bundle = runtime.bundle(["sleep", "1000"], rootfs=runtime.rootfs, mutate=with_devices({veth_end: {}}))
    runtime("create", "-b", bundle, cid, check=True)
    assert not host_has(veth_end)
    pid = runtime.state(cid)["pid"]
    # The container's /sys is a sysfs of its own network namespace.
    assert os.path.isdir(f"/proc/{pid}/root/sys/class/net/{veth_end}")


def test_a_name_template_lets_the_kernel_choose(runtime, veth_end):
    out = run_probe(runtime, "ls /sys/class/net", mutate=with_devices({veth_end: {"name": "eth%d"}}))
    assert out.split() == ["eth0", "lo"]


def test_in_a_namespace_that_outlives_the_container_the_device_stays(runtime, veth_end, netns):
    joined = [{"type": "network", "path": f"/var/run/netns/{netns}"}]

    def mutate(config):
        config["linux"]["namespaces"] = [ns for ns in config["linux"]["namespaces"] if ns["type"] != "network"]
        with_devices({veth_end: {"name": "kept0"}}, joined)(config)

    run_probe(runtime, "true", mutate=mutate)
    # Not moved back: the spec leaves the device to the namespace's owner.
    assert host_has("kept0", netns) and not host_has(veth_end)


@pytest.mark.parametrize("case, message", [
    ("missing", "linux.netDevices.{missing}: no such network device on the host"),
    ("taken", "linux.netDevices.{veth_end}: the container's network namespace already has a device named lo"),
    ("host-netns", "linux.netDevices: needs a network namespace"),
])
def test_bad_devices_fail_create_and_leave_nothing(runtime, veth_end, case, message):
    missing = f"pd{uuid.uuid4().hex[:10]}"
    devices = {missing: {}} if case == "missing" else {veth_end: {"name": "lo"} if case == "taken" else {}}

    def mutate(config):
        with_devices(devices)(config)
        if case == "host-netns":
            config["linux"]["namespaces"] = [ns for ns in config["linux"]["namespaces"] if ns["type"] != "network"]

    cid = runtime.new_id()
    proc = runtime("create", "-b", runtime.bundle(["true"], rootfs=runtime.rootfs, mutate=mutate), cid)
    assert proc.returncode == 1
    assert message.format(missing=missing, veth_end=veth_end) in proc.stderr, proc.stderr
    # The runtime fixture checks no state, cgroup, mount or process is left.
