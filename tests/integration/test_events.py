"""events on real containers: --stats in runc's format with values read
from the host's cgroups and the container's network namespace (and, where
runc is installed, the same fields runc prints for the same config), the
stream at --interval, an "oom" event when a process of the container is
OOM-killed, and runc's refusal for a stopped container."""
import json
import os
import shutil
import subprocess
import time
import uuid

import pytest
from pyroute2 import IPRoute

from conftest import Runtime
from test_isolation import created

LIMIT = 16 << 20


def with_memory_limit(config):
    config["linux"]["resources"] = dict(config["linux"].get("resources", {}),
                                        memory={"limit": LIMIT, "swap": LIMIT})


def test_stats_once(runtime):
    cid, _pid = created(runtime, mutate=with_memory_limit)
    runtime("start", cid, check=True)
    lines = runtime("events", "--stats", cid, check=True).stdout.splitlines()
    assert len(lines) == 1
    event = json.loads(lines[0])
    assert event["type"] == "stats" and event["id"] == cid
    data = event["data"]
    assert data["cpu"]["usage"]["total"] > 0
    assert data["memory"]["usage"]["limit"] == LIMIT and 0 < data["memory"]["usage"]["usage"] <= LIMIT
    assert data["pids"]["current"] == 1


def test_a_stopped_container_has_no_events(runtime):
    cid, _pid = created(runtime, ["true"])
    runtime("start", cid, check=True)
    deadline = time.monotonic() + 10
    while runtime.state(cid)["status"] != "stopped":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    for args in (["--stats"], ["--interval", "100ms"]):
        proc = runtime("events", *args, cid, timeout=10)
        assert proc.returncode == 1 and proc.stdout == "", args
        assert f"container with id {cid} is not running" in proc.stderr, args


BUSY = ["sh", "-c", "while :; do :; done"]
# runc's types.NetworkInterface: Go writes its untagged field names.
INTERFACE_KEYS = {"Name", "RxBytes", "RxPackets", "RxErrors", "RxDropped", "TxBytes", "TxPackets", "TxErrors",
                  "TxDropped"}


def stats(runtime, cid):
    return json.loads(runtime("events", "--stats", cid, check=True).stdout)["data"]


def cgroup_dir(pid, controller):
    """(directory, v2) of pid's cgroup holding controller's files, found
    from /proc as any tool would: the v1 hierarchy mounted with it, else
    the cgroup2 one."""
    mounts = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            fstype, options = fields[fields.index("-") + 1], fields[fields.index("-") + 3].split(",")
            if fstype == "cgroup" and controller in options:
                mounts["v1"] = fields[4]
            elif fstype == "cgroup2":
                mounts["v2"] = fields[4]
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            if "v1" in mounts and controller in controllers.split(","):
                return mounts["v1"] + path, False
            if "v1" not in mounts and controllers == "":
                return mounts["v2"] + path, True
    pytest.skip(f"no {controller} cgroup here")


def numbers(text):
    """A cpuset list ("0-3,5") as the numbers it names, parsed apart from pyoci's."""
    out = []
    for part in filter(None, text.strip().split(",")):
        first, _, last = part.partition("-")
        out += range(int(first), int(last or first) + 1)
    return out


def read(directory, name):
    with open(os.path.join(directory, name)) as f:
        return f.read()


def test_a_busy_container_has_cpu_time_split_by_mode_and_cpu(runtime):
    cid, pid = created(runtime, BUSY)
    runtime("start", cid, check=True)
    time.sleep(1)
    usage = stats(runtime, cid)["cpu"]["usage"]
    assert usage["total"] > 0 and usage["kernel"] + usage["user"] > 0
    directory, v2 = cgroup_dir(pid, "cpuacct")
    if v2:
        # cgroup2 keeps no per-CPU times: runc prints no percpu lists there.
        assert not {"percpu", "percpu_kernel", "percpu_user"} & set(usage)
        return
    with open("/sys/devices/system/cpu/possible") as f:
        cpus = len(numbers(f.read()))  # cpuacct has a column for each possible CPU
    assert len(usage["percpu"]) == len(usage["percpu_kernel"]) == len(usage["percpu_user"]) == cpus
    # The loop runs in user mode; cpuacct.usage_all read after the stats can only have grown.
    after = [line.split() for line in read(directory, "cpuacct.usage_all").splitlines()[1:]]
    assert 0 < sum(usage["percpu_user"]) <= sum(int(user) for _cpu, user, _system in after)


def test_the_cpuset_is_the_cgroups(runtime):
    cid, pid = created(runtime)
    cpuset = stats(runtime, cid)["cpuset"]
    directory, v2 = cgroup_dir(pid, "cpuset")
    suffix = ".effective" if v2 else ""
    if not os.path.exists(os.path.join(directory, "cpuset.cpus" + suffix)):
        pytest.skip("the cgroup2 cpuset controller is not enabled for the container")
    assert cpuset["cpus"] == numbers(read(directory, "cpuset.cpus" + suffix))
    assert cpuset["mems"] == numbers(read(directory, "cpuset.mems" + suffix))
    flags = ("cpu_exclusive", "mem_hardwall", "mem_exclusive", "memory_migrate", "memory_spread_page",
             "memory_spread_slab", "memory_pressure", "sched_load_balance", "sched_relax_domain_level")
    # runc always prints the flags (no omitempty); cgroup2 has none of them.
    assert {flag: cpuset[flag] for flag in flags} == {
        flag: 0 if v2 else int(read(directory, f"cpuset.{flag}")) for flag in flags}


def net_dev(pid):
    """/proc/<pid>/net/dev: {name: (rx bytes, rx packets, tx bytes, tx packets)} of pid's network namespace."""
    out = {}
    for line in read(f"/proc/{pid}/net", "dev").splitlines()[2:]:
        name, _, counters = line.partition(":")
        fields = [int(n) for n in counters.split()]
        out[name.strip()] = (fields[0], fields[1], fields[8], fields[9])
    return out


def test_network_interfaces_are_those_of_the_containers_namespace(runtime):
    # Some traffic on the loopback, then quiet, so the counters hold still.
    talk = "nc -l -p 9000 >/dev/null & sleep 0.3; echo hello | nc 127.0.0.1 9000; sleep 1000"
    cid, pid = created(runtime, ["sh", "-c", talk])
    # A veth pair with one end in the container: deleting the container (its
    # namespace) destroys both.
    name = uuid.uuid4().hex[:8]
    inside, host_end = f"evc{name}", f"evh{name}"
    with IPRoute() as ipr:
        ipr.link("add", ifname=host_end, kind="veth", peer=inside)
        try:
            ipr.link("set", index=ipr.link_lookup(ifname=inside)[0], net_ns_pid=pid)
        except Exception:
            ipr.link("del", index=ipr.link_lookup(ifname=host_end)[0])
            raise
    runtime("start", cid, check=True)
    deadline = time.monotonic() + 10
    while net_dev(pid)["lo"][2] == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    found = stats(runtime, cid)["network_interfaces"]
    assert all(set(entry) == INTERFACE_KEYS for entry in found)
    assert [entry["Name"] for entry in found] == ["lo", inside]
    outside = net_dev(pid)
    lo = found[0]
    assert lo["RxBytes"] > 0 and lo["TxPackets"] > 0
    for entry in found:
        assert (entry["RxBytes"], entry["RxPackets"], entry["TxBytes"], entry["TxPackets"]) == outside[entry["Name"]]


def test_the_hosts_network_namespace_has_no_interfaces_reported(runtime):
    def host_network(config):
        config["linux"]["namespaces"] = [ns for ns in config["linux"]["namespaces"] if ns["type"] != "network"]

    cid, _pid = created(runtime, mutate=host_network)
    assert stats(runtime, cid)["network_interfaces"] is None


@pytest.fixture
def runc(tmp_path, rootfs):
    path = shutil.which("runc")
    if not path:
        pytest.skip("runc is not installed")
    rt = Runtime(str(tmp_path / "runc-state"), str(tmp_path))
    rt.cmd = [path]
    rt.rootfs = rootfs
    yield rt
    rt.cleanup()


def key_paths(value, prefix=""):
    """Every key in value, nested ones as "outer.inner"."""
    if not isinstance(value, dict):
        return set()
    return {path for key, inner in value.items()
            for path in {prefix + key} | key_paths(inner, f"{prefix}{key}.")}


def test_the_same_fields_as_runc(runtime, runc):
    """The same config under both: the same key set in data, but for what
    depends on more than the config."""
    outputs = []
    for rt in (runtime, runc):
        cid, _pid = created(rt, BUSY, mutate=with_memory_limit)
        rt("start", cid, check=True)
        time.sleep(0.5)
        outputs.append(json.loads(rt("events", "--stats", cid, check=True).stdout))
    ours, theirs = outputs
    assert set(ours) == set(theirs) == {"type", "id", "data"}
    # blkio's entries depend on what was read from disk, and the page cache
    # charged to the cgroup on what the runtime's init read (runc's is runc);
    # runc 1.1 reads no hugetlb on a hybrid host's cgroup2 and no interfaces
    # but veths it made.
    varying = ("data.blkio.", "data.memory.cache", "data.hugetlb.", "data.network_interfaces.")

    def fields(event):
        return {path for path in key_paths(event) if not path.startswith(varying)}

    ours_only, theirs_only = fields(ours) - fields(theirs), fields(theirs) - fields(ours)
    _directory, v2 = cgroup_dir(runtime.state(ours["id"])["pid"], "cpuset")
    if v2:
        # runc 1.1 reads no cpuset stats from cgroup2; pyoci gives the effective
        # sets.  Nor memory.peak (Linux 5.19, after runc 1.1): pyoci gives it as usage.max.
        ours_only -= {"data.cpuset.cpus", "data.cpuset.mems", "data.memory.usage.max"}
    assert (ours_only, theirs_only) == (set(), set())


def stream(runtime, cid, seconds, interval="100ms"):
    """The events printed within seconds; the stream is then ended by its pid."""
    proc = subprocess.Popen(runtime.cmd + ["--root", runtime.root, "events", "--interval", interval, cid],
                            stdout=subprocess.PIPE, text=True)
    events = []
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            events.append(json.loads(line))
            if any(e["type"] == "oom" for e in events):
                break
    finally:
        proc.kill()
        proc.wait()
    return events


def test_the_stream_repeats_at_the_interval(runtime):
    cid, _pid = created(runtime)
    runtime("start", cid, check=True)
    events = stream(runtime, cid, 1.0)
    assert len(events) >= 3 and all(e["type"] == "stats" for e in events)


def test_an_oom_kill_is_an_event_and_ends_only_the_hog(runtime):
    # dd's 64 MiB buffer cannot fit in 16 MiB (with no swap to spill to).
    hog = "sleep 0.5; dd if=/dev/zero of=/dev/null bs=64M count=1; sleep 30"
    cid, _pid = created(runtime, ["sh", "-c", hog], mutate=with_memory_limit)
    runtime("start", cid, check=True)
    events = stream(runtime, cid, 10)
    assert {"type": "oom", "id": cid} in events
    # Only dd was killed: the container goes on.
    assert runtime.state(cid)["status"] == "running"


def test_a_bad_interval_is_refused(runtime):
    cid, _pid = created(runtime)
    proc = runtime("events", "--interval", "soon", cid)
    assert proc.returncode == 1 and "--interval" in proc.stderr
