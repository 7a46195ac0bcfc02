"""linux.resources on the host's real cgroups: each value checked in the
host's cgroupfs, where this machine's layout has the controller."""
import json
import os

import pytest

from host_view import pure_v2
from leftovers import assert_nothing_left
from pyoci.cgroups import hierarchies
from test_isolation import created


def v1_memory_root():
    for h in hierarchies():
        if not h.v2 and "memory" in h.controllers:
            return h.mountpoint
    return None


@pytest.mark.skipif(v1_memory_root() is None, reason="no v1 memory controller on this host")
def test_memory_fields_v1(runtime):
    limit = 50593792
    path = f"/pyoci-test-memory-{os.urandom(4).hex()}"

    def mutate(config):
        config["linux"]["cgroupsPath"] = path
        config["linux"]["resources"] = {"memory": {
            "limit": limit, "reservation": limit // 2, "swap": 2 * limit, "kernel": limit, "kernelTCP": limit,
            "swappiness": 10, "disableOOMKiller": True}}

    cid, pid = created(runtime, mutate=mutate)
    directory = v1_memory_root() + path

    def read(name):
        with open(os.path.join(directory, name)) as f:
            return f.read()

    assert str(pid) in read("cgroup.procs").split()
    assert int(read("memory.limit_in_bytes")) == limit
    assert int(read("memory.soft_limit_in_bytes")) == limit // 2
    assert int(read("memory.memsw.limit_in_bytes")) == 2 * limit
    assert int(read("memory.kmem.tcp.limit_in_bytes")) == limit
    assert int(read("memory.swappiness")) == 10
    assert "oom_kill_disable 1" in read("memory.oom_control")
    runtime("delete", "-f", cid, check=True)
    assert not os.path.exists(directory)


def mount_of(controller=None, v2=False):
    for h in hierarchies():
        if (v2 and h.v2) or (not v2 and not h.v2 and controller in h.controllers):
            return h.mountpoint
    return None


def read(path):
    with open(path) as f:
        return f.read().strip()


def first_block_device():
    for name in sorted(os.listdir("/sys/block")):
        with open(f"/sys/block/{name}/dev") as f:
            major, minor = f.read().strip().split(":")
        if not name.startswith(("loop", "ram", "zram")):
            return int(major), int(minor)
    return None


@pytest.mark.skipif(mount_of("cpu") is None, reason="no v1 cpu controller on this host")
def test_cpu_burst_idle_and_realtime_v1(runtime):
    path = f"/pyoci-test-cpu-{os.urandom(4).hex()}"

    def mutate(config):
        config["linux"]["cgroupsPath"] = path
        config["linux"]["resources"] = {"cpu": {"quota": 50000, "period": 100000, "burst": 20000, "idle": 1,
                                                "realtimePeriod": 1000000, "realtimeRuntime": 10000}}

    created(runtime, mutate=mutate)
    directory = mount_of("cpu") + path
    assert read(f"{directory}/cpu.cfs_burst_us") == "20000"
    assert read(f"{directory}/cpu.idle") == "1"
    assert read(f"{directory}/cpu.rt_period_us") == "1000000"
    assert read(f"{directory}/cpu.rt_runtime_us") == "10000"


@pytest.mark.skipif(mount_of("blkio") is None or first_block_device() is None, reason="no v1 blkio or no disk")
def test_blkio_throttles_v1(runtime):
    major, minor = first_block_device()
    path = f"/pyoci-test-blkio-{os.urandom(4).hex()}"

    def mutate(config):
        config["linux"]["cgroupsPath"] = path
        device = {"major": major, "minor": minor}
        config["linux"]["resources"] = {"blockIO": {
            "throttleReadBpsDevice": [dict(device, rate=1048576)], "throttleWriteBpsDevice": [dict(device, rate=524288)],
            "throttleReadIOPSDevice": [dict(device, rate=100)], "throttleWriteIOPSDevice": [dict(device, rate=50)]}}

    created(runtime, mutate=mutate)
    directory = mount_of("blkio") + path
    assert read(f"{directory}/blkio.throttle.read_bps_device") == f"{major}:{minor} 1048576"
    assert read(f"{directory}/blkio.throttle.write_bps_device") == f"{major}:{minor} 524288"
    assert read(f"{directory}/blkio.throttle.read_iops_device") == f"{major}:{minor} 100"
    assert read(f"{directory}/blkio.throttle.write_iops_device") == f"{major}:{minor} 50"


def hugetlb_mount():
    """Where hugetlb is: its v1 hierarchy, or cgroup2 (this machine's hybrid layout)."""
    v1 = mount_of("hugetlb")
    if v1:
        return v1, "limit_in_bytes"
    v2 = mount_of(v2=True)
    if v2 and "hugetlb" in read(f"{v2}/cgroup.controllers").split():
        return v2, "max"
    return None, None


@pytest.mark.skipif(hugetlb_mount()[0] is None or not os.path.isdir("/sys/kernel/mm/hugepages/hugepages-2048kB"),
                    reason="no hugetlb controller or no 2MB pages")
def test_hugepage_limits(runtime):
    mount, suffix = hugetlb_mount()
    path = f"/pyoci-test-hugetlb-{os.urandom(4).hex()}"

    def mutate(config):
        config["linux"]["cgroupsPath"] = path
        config["linux"]["resources"] = {"hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}]}

    created(runtime, mutate=mutate)
    assert read(f"{mount}{path}/hugetlb.2MB.{suffix}") == "4194304"


@pytest.mark.parametrize("resources, field, absent", [
    ({"network": {"classID": 1048577}}, "linux.resources.network.classID", "net_cls"),
    ({"rdma": {"mlx5_1": {"hcaHandles": 3}}}, "linux.resources.rdma.mlx5_1", "rdma"),
    ({"hugepageLimits": [{"pageSize": "3MB", "limit": 1}]}, "linux.resources.hugepageLimits[0]", None),
])
def test_what_the_host_cannot_apply_fails_create(runtime, resources, field, absent):
    if absent and mount_of(absent):
        pytest.skip(f"this host has a {absent} controller")

    def mutate(config):
        config["linux"]["resources"] = resources

    cid = runtime.new_id()
    proc = runtime("create", "-b", runtime.bundle(["true"], rootfs=runtime.rootfs, mutate=mutate), cid)
    assert proc.returncode == 1 and field in proc.stderr, proc.stderr


@pytest.mark.skipif(all(h.v2 for h in hierarchies()), reason="a pure cgroup v2 host takes unified")
def test_unified_needs_a_v2_host(runtime):
    def mutate(config):
        config["linux"]["resources"] = {"unified": {"memory.high": "1073741824"}}

    cid = runtime.new_id()
    proc = runtime("create", "-b", runtime.bundle(["true"], rootfs=runtime.rootfs, mutate=mutate), cid)
    assert proc.returncode == 1 and "linux.resources.unified" in proc.stderr


def test_a_fork_bomb_stops_at_pids_limit(runtime):
    """Forks past linux.resources.pids.limit fail inside the container; the
    host is untouched and delete ends what is there."""
    def limit(config):
        config["linux"]["resources"] = dict(config["linux"].get("resources", {}), pids={"limit": 16})

    # The bomb is a child shell, which dies when fork fails; the count uses
    # shell builtins only: at the limit, nothing more can fork.
    script = ("sh -c 'while true; do sleep 1000 & done' 2>/dev/null; "
              "set -- /proc/[0-9]*; echo $#")
    cid = runtime.new_id()
    proc = runtime("run", "-b", runtime.bundle(["sh", "-c", script], rootfs=runtime.rootfs, mutate=limit), cid)
    # sh itself and the sleeps that got a pid: never past the limit.
    assert 1 < int(proc.stdout.split()[-1]) <= 16, proc.stdout + proc.stderr


def test_an_init_the_oom_killer_ends_during_create_is_named(runtime, tmp_path):
    """A memory limit too small for even the runtime's part of the init
    (before the container's program runs): the init is OOM-killed during
    create, and create says so, naming the limit, in its error and in
    --log, where a bare "exited" would leave the user guessing; nothing is
    left behind.  swap = limit: no swap to page out to instead."""
    limit = 16384

    def mutate(config):
        config["linux"]["resources"] = {"memory": {"limit": limit, "swap": limit}}

    cid = runtime.new_id()
    log = tmp_path / "log.json"
    proc = runtime("create", "-b", runtime.bundle(["true"], rootfs=runtime.rootfs, mutate=mutate), cid,
                   global_args=("--log", str(log), "--log-format", "json"))
    assert proc.returncode == 1
    assert "OOM killer" in proc.stderr and f"linux.resources.memory.limit {limit}" in proc.stderr, proc.stderr
    errors = [r["msg"] for r in map(json.loads, log.read_text().splitlines()) if r["level"] == "error"]
    assert errors and "OOM killer" in errors[-1], errors
    assert_nothing_left(runtime.root, cid, runtime.tmp, runtime.rootfs)


def v2_dir_of(pid):
    with open(f"/proc/{pid}/cgroup") as f:
        path = f.read().strip().split(":", 2)[2]
    return os.path.join(mount_of(v2=True), path.lstrip("/"))


@pytest.mark.skipif(not pure_v2(), reason="needs pure cgroup v2 (the v2 lane)")
def test_every_v2_resource_family_lands_in_its_file(runtime):
    """Each linux.resources family a pure v2 host can apply, read back from
    the container's cgroup2 files: the spec's v1-shaped values converted as
    runc and crun convert them."""
    limit = 96 << 20
    device = first_block_device()

    def mutate(config):
        resources = {
            "memory": {"limit": limit, "reservation": limit // 2, "swap": 2 * limit},
            "cpu": {"shares": 1024, "quota": 25000, "period": 50000, "burst": 1000, "idle": 0,
                    "cpus": "0", "mems": "0"},
            "pids": {"limit": 77},
            "unified": {"memory.high": str(limit - 4096)},
        }
        if device:
            major, minor = device
            resources["blockIO"] = {"weight": 500, "throttleReadBpsDevice": [
                {"major": major, "minor": minor, "rate": 1048576}]}
        if hugetlb_mount()[0] and os.path.isdir("/sys/kernel/mm/hugepages/hugepages-2048kB"):
            resources["hugepageLimits"] = [{"pageSize": "2MB", "limit": 4194304}]
        config["linux"]["resources"] = resources

    cid, pid = created(runtime, mutate=mutate)
    d = v2_dir_of(pid)
    assert d.endswith("/" + cid)
    assert int(read(f"{d}/memory.max")) == limit
    assert int(read(f"{d}/memory.low")) == limit // 2
    assert int(read(f"{d}/memory.swap.max")) == limit  # v1's memory+swap minus the memory
    assert int(read(f"{d}/memory.high")) == limit - 4096
    assert read(f"{d}/cpu.weight") == "39"  # 1 + (1024 - 2) * 9999 / 262142
    assert read(f"{d}/cpu.max") == "25000 50000"
    assert read(f"{d}/cpu.max.burst") == "1000"
    assert read(f"{d}/cpuset.cpus") == "0" and read(f"{d}/cpuset.mems") == "0"
    assert read(f"{d}/pids.max") == "77"
    if device:
        assert f"{device[0]}:{device[1]} rbps=1048576" in read(f"{d}/io.max")
    if hugetlb_mount()[0] and os.path.isdir("/sys/kernel/mm/hugepages/hugepages-2048kB"):
        assert read(f"{d}/hugetlb.2MB.max") == "4194304"
    # update reaches the same files.
    runtime("update", "--memory", str(limit * 2), "--pids-limit", "78", "--cpu-quota", "30000", cid, check=True)
    assert int(read(f"{d}/memory.max")) == limit * 2
    assert read(f"{d}/pids.max") == "78"
    assert read(f"{d}/cpu.max") == "30000 50000"


@pytest.mark.skipif(not pure_v2(), reason="needs pure cgroup v2 (the v2 lane)")
@pytest.mark.parametrize("resources, field", [
    ({"memory": {"swappiness": 10}}, "linux.resources.memory.swappiness"),
    ({"memory": {"disableOOMKiller": True}}, "linux.resources.memory.disableOOMKiller"),
    ({"cpu": {"realtimeRuntime": 1000}}, "linux.resources.cpu.realtimeRuntime"),
    ({"network": {"classID": 1}}, "linux.resources.network.classID"),
    ({"blockIO": {"leafWeight": 10}}, "linux.resources.blockIO.leafWeight"),
])
def test_v1_only_fields_are_refused_on_v2_by_name(runtime, resources, field):
    cid = runtime.new_id()
    bundle = runtime.bundle(["true"], rootfs=runtime.rootfs,
                            mutate=lambda c: c["linux"].update(resources=resources))
    proc = runtime("create", "-b", bundle, cid)
    assert proc.returncode == 1 and field in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
