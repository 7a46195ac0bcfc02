"""Unit tests of linux.resources -> cgroup files (pyoci.cgroups.resources),
against temporary directory trees standing in for v1 and v2 hierarchies:
which file each field lands in, the v1/v2 conversions, and the fields a
version cannot apply."""
from pathlib import Path

import pytest

from pyoci.cgroups import Hierarchy
from pyoci.cgroups.resources import apply
from pyoci.core.errors import ConfigError
from pyoci.core.log import log


# The interface files a stand-in cgroup has, empty, as the kernel makes
# them: pyoci writes cgroup files and never creates one.  (The files whose
# presence decides what is written, blkio's and io's weights, are made by
# the tests that need them.)
INTERFACE_FILES = {
    "memory": ("memory.limit_in_bytes", "memory.soft_limit_in_bytes", "memory.memsw.limit_in_bytes",
               "memory.kmem.tcp.limit_in_bytes", "memory.swappiness", "memory.oom_control", "memory.use_hierarchy"),
    "pids": ("pids.max",),
    "cpu": ("cpu.shares", "cpu.cfs_quota_us", "cpu.cfs_period_us", "cpu.cfs_burst_us", "cpu.rt_period_us",
            "cpu.rt_runtime_us", "cpu.idle"),
    "cpuset": ("cpuset.cpus", "cpuset.mems"),
    "blkio": ("blkio.throttle.read_bps_device", "blkio.throttle.write_iops_device"),
    "hugetlb": ("hugetlb.2MB.limit_in_bytes",),
    "net_cls": ("net_cls.classid",),
    "net_prio": ("net_prio.ifpriomap",),
    "rdma": ("rdma.max",),
    "": ("memory.max", "memory.low", "memory.high", "memory.swap.max", "pids.max", "cpu.weight", "cpu.max",
         "cpu.max.burst", "cpu.idle", "cpuset.cpus", "cpuset.mems", "io.max", "io.latency", "hugetlb.2MB.max",
         "rdma.max", "cgroup.procs"),
}
V2_CONTROLLERS = "cpuset cpu io memory hugetlb pids rdma"


def stand_in(directory, controller):
    for name in INTERFACE_FILES[controller]:
        Path(directory, name).touch()
    if controller == "":
        Path(directory, "cgroup.controllers").write_text(V2_CONTROLLERS + "\n")


def v1_tree(tmp_path, controllers):
    hierarchies = [Hierarchy(str(tmp_path / c), frozenset({c}), False) for c in controllers]
    dirs = {}
    for c, h in zip(controllers, hierarchies):
        directory = tmp_path / "cg" / c
        directory.mkdir(parents=True)
        stand_in(directory, c)
        dirs[h.mountpoint] = str(directory)
    return hierarchies, dirs


@pytest.fixture
def v1(tmp_path):
    return v1_tree(tmp_path, ("memory", "pids", "cpu", "cpuset"))


@pytest.fixture
def v2(tmp_path):
    hierarchies = [Hierarchy(str(tmp_path), frozenset(), True)]
    stand_in(tmp_path, "")
    return hierarchies, {str(tmp_path): str(tmp_path)}


def files(directory):
    """What was written: the files that are no longer empty."""
    return {p.name: p.read_text() for p in Path(directory).iterdir()
            if p.read_text() and p.name != "cgroup.controllers"}


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


def test_a_field_pyoci_does_not_know_is_refused(v1):
    hierarchies, dirs = v1
    with pytest.raises(ConfigError, match=r"linux\.resources\.cpu\.weight: not supported"):
        apply({"cpu": {"weight": 100}}, dirs, hierarchies)


@pytest.mark.parametrize("layout", ["v1", "v2"])
def test_swap_below_limit_is_refused_on_both_versions(layout, request):
    hierarchies, dirs = request.getfixturevalue(layout)
    with pytest.raises(ConfigError, match="linux.resources.memory.swap: 1 is below memory.limit 2"):
        apply({"memory": {"limit": 2, "swap": 1}}, dirs, hierarchies)


def test_hierarchies_ignore_second_mounts_of_the_same_hierarchy():
    from pyoci.core import mountinfo
    from pyoci.cgroups import find_hierarchies

    lines = [
        b"30 25 0:26 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw",
        b"31 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct",
        b"32 25 0:28 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory",
        b"33 25 0:29 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd",
        # a container sharing the host's mount namespace mounted them again in its rootfs
        b"90 80 0:27 / /tmp/bundle/rootfs/sys/fs/cgroup/cpu,cpuacct ro - cgroup cgroup rw,cpu,cpuacct",
        b"91 80 0:26 / /tmp/bundle/rootfs/sys/fs/cgroup ro - cgroup2 cgroup2 rw",
        # a bind of a sub-cgroup is not the hierarchy's root
        b"92 25 0:28 /docker/x /mnt/memory rw - cgroup cgroup rw,memory",
    ]
    found = find_hierarchies(mountinfo.parse(b"\n".join(lines)))
    assert [(h.mountpoint, sorted(h.controllers), h.v2) for h in found] == [
        ("/sys/fs/cgroup/unified", [], True),
        ("/sys/fs/cgroup/cpu,cpuacct", ["cpu", "cpuacct"], False),
        ("/sys/fs/cgroup/memory", ["memory"], False),
        # named: joined, as runc does, but no controller in it
        ("/sys/fs/cgroup/systemd", ["name=systemd"], False),
    ]
    assert [h.has_controllers for h in found] == [False, True, True, False]


@pytest.fixture
def v1_all(tmp_path):
    controllers = ("cpu", "blkio", "hugetlb", "net_cls", "net_prio", "rdma")
    hierarchies, dirs = v1_tree(tmp_path, controllers)
    (tmp_path / "cg" / "blkio" / "blkio.bfq.weight").write_text("")
    (tmp_path / "cg" / "blkio" / "blkio.bfq.weight_device").write_text("")
    return hierarchies, {c: dirs[h.mountpoint] for c, h in zip(controllers, hierarchies)}, dirs


BLOCK_IO = {"weight": 500, "weightDevice": [{"major": 8, "minor": 0, "weight": 300}],
            "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}],
            "throttleWriteIOPSDevice": [{"major": 8, "minor": 0, "rate": 100}]}


def test_cpu_blkio_hugetlb_network_rdma_v1(v1_all):
    hierarchies, by_controller, dirs = v1_all
    apply({"cpu": {"burst": 1000, "realtimePeriod": 1000000, "realtimeRuntime": 950000, "idle": 1},
           "blockIO": BLOCK_IO,
           "hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}],
           "network": {"classID": 1048577, "priorities": [{"name": "eth0", "priority": 5}]},
           "rdma": {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000}}}, dirs, hierarchies)
    assert files(by_controller["cpu"]) == {"cpu.cfs_burst_us": "1000", "cpu.rt_period_us": "1000000",
                                           "cpu.rt_runtime_us": "950000", "cpu.idle": "1"}
    assert files(by_controller["blkio"]) == {
        "blkio.bfq.weight": "500", "blkio.bfq.weight_device": "8:0 300",
        "blkio.throttle.read_bps_device": "8:0 1048576", "blkio.throttle.write_iops_device": "8:0 100"}
    assert files(by_controller["hugetlb"]) == {"hugetlb.2MB.limit_in_bytes": "4194304"}
    assert files(by_controller["net_cls"]) == {"net_cls.classid": "1048577"}
    assert files(by_controller["net_prio"]) == {"net_prio.ifpriomap": "eth0 5"}
    assert files(by_controller["rdma"]) == {"rdma.max": "mlx5_1 hca_handle=3 hca_object=10000"}


def test_cpu_blkio_hugetlb_rdma_unified_v2(v2):
    hierarchies, dirs = v2
    directory = next(iter(dirs.values()))
    Path(directory, "io.weight").write_text("")
    apply({"cpu": {"burst": 1000, "idle": 1}, "blockIO": BLOCK_IO,
           "hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}],
           "rdma": {"mlx5_1": {"hcaHandles": 3}},
           "unified": {"memory.high": "1073741824", "io.latency": "8:0 target=100"}}, dirs, hierarchies)
    written = files(directory)
    assert written["cpu.max.burst"] == "1000" and written["cpu.idle"] == "1"
    # The last write wins in a plain file: the device's weight after the default's.
    assert written["io.weight"] == "8:0 300"
    assert written["io.max"] == "8:0 rbps=1048576 wiops=100"
    assert written["hugetlb.2MB.max"] == "4194304"
    assert written["rdma.max"] == "mlx5_1 hca_handle=3"
    assert written["memory.high"] == "1073741824" and written["io.latency"] == "8:0 target=100"


@pytest.mark.parametrize("cpu, before, after", [
    ({"quota": 30000, "period": 50000}, "max 100000", "30000 50000"),
    ({"quota": 30000}, "20000 50000", "30000"),  # the kernel keeps the period
    ({"quota": -1}, "20000 50000", "max"),
    ({"period": 80000}, "20000 50000", "20000 80000"),  # the quota in force is kept
])
def test_cpu_max_keeps_what_an_update_leaves_out(v2, cpu, before, after):
    hierarchies, dirs = v2
    directory = next(iter(dirs.values()))
    Path(directory, "cpu.max").write_text(before)
    apply({"cpu": cpu}, dirs, hierarchies)
    assert files(directory)["cpu.max"] == after


def test_blkio_weight_converts_to_io_weight(v2):
    hierarchies, dirs = v2
    directory = next(iter(dirs.values()))
    Path(directory, "io.weight").write_text("")
    apply({"blockIO": {"weight": 1000}}, dirs, hierarchies)
    assert files(directory)["io.weight"] == "10000"


@pytest.mark.parametrize("resources, field", [
    ({"cpu": {"realtimeRuntime": 950000}}, "linux.resources.cpu.realtimeRuntime"),
    ({"blockIO": {"leafWeight": 10}}, "linux.resources.blockIO.leafWeight"),
    ({"blockIO": {"weight": 100}}, "linux.resources.blockIO.weight"),  # neither io.weight nor io.bfq.weight
    ({"network": {"classID": 1}}, "linux.resources.network.classID"),
    ({"unified": {"cgroup.procs": "1"}}, "linux.resources.unified.cgroup.procs"),
    ({"unified": {"../escape": "1"}}, "linux.resources.unified.../escape"),
    ({"unified": {"cgroup.kill": "1"}}, "linux.resources.unified.cgroup.kill"),
    ({"unified": {"cgroup.freeze": "1"}}, "linux.resources.unified.cgroup.freeze"),
    ({"unified": {"misc.max": "1"}}, "linux.resources.unified.misc.max"),  # not a controller enabled there
    ({"unified": {"memory.max/x": "1"}}, r"linux.resources.unified.memory.max/x"),
])
def test_v2_refuses_what_it_cannot_apply(v2, resources, field):
    hierarchies, dirs = v2
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        apply(resources, dirs, hierarchies)


def test_unified_on_v1_is_refused(v1):
    hierarchies, dirs = v1
    with pytest.raises(ConfigError, match=r"linux\.resources\.unified"):
        apply({"unified": {"memory.high": "1"}}, dirs, hierarchies)


def test_blkio_weight_without_a_weight_file_is_refused(v1_all):
    hierarchies, by_controller, dirs = v1_all
    Path(by_controller["blkio"], "blkio.bfq.weight").unlink()
    with pytest.raises(ConfigError, match=r"linux\.resources\.blockIO\.weight"):
        apply({"blockIO": {"weight": 500}}, dirs, hierarchies)


def test_v2_update_builds_the_device_program_as_create_and_replaces_its(v2, monkeypatch):
    """An update's program: the rules in force, the update's over them, then
    the defaults and linux.devices' nodes, as create's; in place of the
    program recorded, and recorded in its turn."""
    from pyoci.cgroups import device_program, resources

    hierarchies, dirs = v2
    attached = []
    monkeypatch.setattr(device_program, "attach",
                        lambda d, rules, replacing=None, sole=False: attached.append((rules, replacing, sole)) or 42)
    before = [{"allow": False, "access": "rwm"}, {"allow": True, "type": "c", "major": 1, "minor": 11, "access": "w"}]
    new = [{"allow": False, "type": "c", "major": 1, "minor": 11, "access": "rwm"}]
    node = {"path": "/dev/x", "type": "c", "major": 10, "minor": 126}
    assert apply({"devices": new}, dirs, hierarchies, [node], devices_before=before, program_before=7) == 42
    [(rules, replacing, sole)] = attached
    assert replacing == 7 and not sole  # the fixture's cgroup is not one pyoci made
    assert rules == before + new + [device_program.parse_rule(r) for r in resources.DEFAULT_ALLOWED_DEVICES
                                    + ("c 10:126 rwm",)]
    assert resources.device_record([node], 42) == {"nodes": [node], "program": 42}
    assert apply({"pids": {"limit": 5}}, dirs, hierarchies, [node], program_before=42) == 42  # no rules: kept


def test_update_records_device_rules_on_top_of_those_in_force():
    from pyoci.runtime.update import merged

    deny_all = {"allow": False, "access": "rwm"}
    kmsg = {"allow": True, "type": "c", "major": 1, "minor": 11, "access": "w"}
    recorded = {"devices": [deny_all], "pids": {"limit": 5}}
    assert merged(recorded, {"devices": [kmsg]}) == {"devices": [deny_all, kmsg], "pids": {"limit": 5}}
    # An engine that sends the whole list again starts over, and the record with it.
    assert merged({"devices": [deny_all, kmsg]}, {"devices": [deny_all, kmsg]})["devices"] == [deny_all, kmsg]
    assert merged(recorded, {"pids": {"limit": 9}}) == {"devices": [deny_all], "pids": {"limit": 9}}
