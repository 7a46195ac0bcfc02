"""Unit tests of linux.resources -> cgroup files (pyoci.cgroups.resources),
against temporary directory trees standing in for v1 and v2 hierarchies:
which file each field lands in, the v1/v2 conversions, and the fields a
version cannot apply."""
from pathlib import Path

import pytest

from pyoci.cgroups import Hierarchy
from pyoci.cgroups.resources import apply
from pyoci.errors import ConfigError
from pyoci.log import log


@pytest.fixture
def v1(tmp_path):
    hierarchies = [Hierarchy(str(tmp_path / c), frozenset({c}), False) for c in ("memory", "pids", "cpu", "cpuset")]
    dirs = {}
    for h in hierarchies:
        directory = tmp_path / "cg" / h.mountpoint.rsplit("/", 1)[1]
        directory.mkdir(parents=True)
        dirs[h.mountpoint] = str(directory)
    return hierarchies, dirs


@pytest.fixture
def v2(tmp_path):
    hierarchies = [Hierarchy(str(tmp_path), frozenset(), True)]
    return hierarchies, {str(tmp_path): str(tmp_path)}


def files(directory):
    return {p.name: p.read_text() for p in Path(directory).iterdir()}


@pytest.fixture
def warnings(monkeypatch):
    said = []
    monkeypatch.setattr(log, "warning", said.append)
    return said


MEMORY = {"limit": 50593792, "reservation": 40000000, "swap": 101187584, "kernel": 50593792,
          "kernelTCP": 50593792, "swappiness": 10, "disableOOMKiller": True, "useHierarchy": True,
          "checkBeforeUpdate": True}


def test_memory_v1(v1, warnings):
    hierarchies, dirs = v1
    apply({"memory": MEMORY}, dirs, hierarchies)
    assert files(dirs[hierarchies[0].mountpoint]) == {
        "memory.limit_in_bytes": "50593792", "memory.soft_limit_in_bytes": "40000000",
        "memory.memsw.limit_in_bytes": "101187584", "memory.kmem.tcp.limit_in_bytes": "50593792",
        "memory.swappiness": "10", "memory.oom_control": "1", "memory.use_hierarchy": "1",
    }
    assert warnings == ["linux.resources.memory.kernel: ignored; the kernel no longer enforces kernel memory limits"]


def test_memory_v2(v2, warnings):
    hierarchies, dirs = v2
    memory = {k: v for k, v in MEMORY.items() if k not in ("swappiness", "disableOOMKiller")}
    apply({"memory": memory}, dirs, hierarchies)
    # v2's swap is swap alone, v1's memory plus swap.
    assert files(dirs[hierarchies[0].mountpoint]) == {
        "memory.max": "50593792", "memory.low": "40000000", "memory.swap.max": "50593792"}
    assert [w.split(":")[0] for w in warnings] == ["linux.resources.memory.kernel", "linux.resources.memory.kernelTCP"]


def test_memory_v2_unlimited(v2):
    hierarchies, dirs = v2
    apply({"memory": {"limit": -1, "swap": -1, "reservation": -1}}, dirs, hierarchies)
    assert files(dirs[hierarchies[0].mountpoint]) == {"memory.max": "max", "memory.low": "max", "memory.swap.max": "max"}


@pytest.mark.parametrize("memory, field", [
    ({"swappiness": 0}, "swappiness"),
    ({"disableOOMKiller": True}, "disableOOMKiller"),
    ({"useHierarchy": False}, "useHierarchy"),
])
def test_memory_v2_refuses_what_it_cannot_apply(v2, memory, field):
    hierarchies, dirs = v2
    with pytest.raises(ConfigError, match=f"linux.resources.memory.{field}: cgroup v2"):
        apply({"memory": memory}, dirs, hierarchies)


def test_memory_without_a_memory_controller(v1):
    hierarchies, dirs = v1
    hierarchies = [h for h in hierarchies if "memory" not in h.controllers]
    with pytest.raises(ConfigError, match="linux.resources.memory.limit: the host has no cgroup controller"):
        apply({"memory": {"limit": 1 << 20}}, dirs, hierarchies)


def test_unsupported_field_is_refused(v1):
    hierarchies, dirs = v1
    with pytest.raises(ConfigError, match=r"linux.resources.hugepageLimits: not supported"):
        apply({"hugepageLimits": []}, dirs, hierarchies)


@pytest.mark.parametrize("layout", ["v1", "v2"])
def test_swap_below_limit_is_refused_on_both_versions(layout, request):
    hierarchies, dirs = request.getfixturevalue(layout)
    with pytest.raises(ConfigError, match="linux.resources.memory.swap: 1 is below memory.limit 2"):
        apply({"memory": {"limit": 2, "swap": 1}}, dirs, hierarchies)


def test_hierarchies_ignore_second_mounts_of_the_same_hierarchy():
    from pyoci.cgroups import parse_hierarchies

    lines = [
        "30 25 0:26 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw",
        "31 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct",
        "32 25 0:28 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory",
        "33 25 0:29 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd",
        # a container sharing the host's mount namespace mounted them again in its rootfs
        "90 80 0:27 / /tmp/bundle/rootfs/sys/fs/cgroup/cpu,cpuacct ro - cgroup cgroup rw,cpu,cpuacct",
        "91 80 0:26 / /tmp/bundle/rootfs/sys/fs/cgroup ro - cgroup2 cgroup2 rw",
        # a bind of a sub-cgroup is not the hierarchy's root
        "92 25 0:28 /docker/x /mnt/memory rw - cgroup cgroup rw,memory",
    ]
    found = parse_hierarchies(lines)
    assert [(h.mountpoint, sorted(h.controllers), h.v2) for h in found] == [
        ("/sys/fs/cgroup/unified", [], True),
        ("/sys/fs/cgroup/cpu,cpuacct", ["cpu", "cpuacct"], False),
        ("/sys/fs/cgroup/memory", ["memory"], False),
    ]
