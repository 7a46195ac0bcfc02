"""How the container's processes run, seen from the host: process.scheduler,
process.ioPriority, linux.personality and linux.memoryPolicy for the init and
exec's processes, process.execCPUAffinity for exec's, and linux.intelRdt's
refusal where the host has no resctrl."""
import ctypes
import os
import platform

import pytest

from test_exec import running
from test_isolation import created, run_probe

SYS_IOPRIO_GET = {"x86_64": 252, "aarch64": 31}.get(platform.machine())


def stat_fields(pid):
    """/proc/pid/stat from field 3 on (after the command name), 0-based from there."""
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def policy_and_nice(pid):
    fields = stat_fields(pid)
    return int(fields[38]), int(fields[16])  # stat fields 41 (policy) and 19 (nice)


def status_value(pid, name):
    with open(f"/proc/{pid}/status") as f:
        return next(line.split(":", 1)[1].strip() for line in f if line.startswith(name + ":"))


def test_scheduler_applies_to_the_init_and_to_exec(runtime):
    def batch(config):
        config["process"]["scheduler"] = {"policy": "SCHED_BATCH", "nice": 7}

    cid, pid = running(runtime, batch)
    assert policy_and_nice(pid) == (3, 7)
    out = runtime("exec", cid, "sh", "-c", "cat /proc/self/stat", check=True).stdout
    fields = out.rsplit(")", 1)[1].split()
    assert (int(fields[38]), int(fields[16])) == (3, 7)


def test_real_time_scheduler(runtime):
    def fifo(config):
        config["process"]["scheduler"] = {"policy": "SCHED_FIFO", "priority": 10}
        # With RT group scheduling a new cgroup has no real-time budget of its own.
        if os.path.exists("/sys/fs/cgroup/cpu/cpu.rt_runtime_us"):
            config["linux"]["resources"] = {"cpu": {"realtimeRuntime": 10000, "realtimePeriod": 1000000}}

    _cid, pid = created(runtime, mutate=fifo)
    assert int(stat_fields(pid)[37]) == 10  # stat field 40: rt_priority
    assert policy_and_nice(pid)[0] == 1


def test_a_scheduler_the_kernel_refuses_names_the_field(runtime):
    def bad(config):
        config["process"]["scheduler"] = {"policy": "SCHED_OTHER", "priority": 50}

    cid = runtime.new_id()
    proc = runtime("create", "-b", runtime.bundle(["true"], rootfs=runtime.rootfs, mutate=bad), cid)
    assert proc.returncode == 1
    assert "process.scheduler SCHED_OTHER: sched_setattr: invalid argument" in proc.stderr, proc.stderr


@pytest.mark.skipif(SYS_IOPRIO_GET is None, reason="ioprio_get's number is known here for x86_64 and aarch64 only")
def test_io_priority(runtime):
    def idle_io(config):
        config["process"]["ioPriority"] = {"class": "IOPRIO_CLASS_BE", "priority": 6}

    _cid, pid = created(runtime, mutate=idle_io)
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.syscall(SYS_IOPRIO_GET, 1, pid) == (2 << 13) | 6


def test_personality_linux32(runtime):
    def linux32(config):
        config["linux"]["personality"] = {"domain": "LINUX32"}

    if platform.machine() != "x86_64":
        pytest.skip("LINUX32 on an x86_64 host shows as i686")
    assert run_probe(runtime, "uname -m; cat /proc/self/personality", mutate=linux32).split() == ["i686", "00000008"]


def test_personality_flags_are_refused(runtime):
    def flagged(config):
        config["linux"]["personality"] = {"domain": "LINUX", "flags": ["ADDR_NO_RANDOMIZE"]}

    cid = runtime.new_id()
    proc = runtime("create", "-b", runtime.bundle(["true"], rootfs=runtime.rootfs, mutate=flagged), cid)
    assert proc.returncode == 1 and "linux.personality.flags: 'ADDR_NO_RANDOMIZE'" in proc.stderr, proc.stderr


@pytest.mark.parametrize("policy, shown", [
    ({"mode": "MPOL_BIND", "nodes": "0"}, "bind:0"),
    ({"mode": "MPOL_INTERLEAVE", "nodes": "0", "flags": ["MPOL_F_STATIC_NODES"]}, "interleave=static:0"),
    ({"mode": "MPOL_LOCAL"}, "local"),
])
def test_memory_policy(runtime, policy, shown):
    def with_policy(config):
        config["linux"]["memoryPolicy"] = policy

    cid, pid = running(runtime, with_policy)
    with open(f"/proc/{pid}/numa_maps") as f:
        assert f.readline().split()[1] == shown
    out = runtime("exec", cid, "head", "-1", "/proc/self/numa_maps", check=True).stdout
    assert out.split()[1] == shown


def test_a_memory_policy_on_a_missing_node_fails_create(runtime):
    def no_such_node(config):
        config["linux"]["memoryPolicy"] = {"mode": "MPOL_BIND", "nodes": "63"}

    cid = runtime.new_id()
    proc = runtime("create", "-b", runtime.bundle(["true"], rootfs=runtime.rootfs, mutate=no_such_node), cid)
    assert proc.returncode == 1 and "linux.memoryPolicy MPOL_BIND: set_mempolicy" in proc.stderr, proc.stderr


@pytest.mark.skipif(os.cpu_count() < 2, reason="needs two CPUs")
def test_exec_cpu_affinity(runtime):
    def affinity(config):
        config["process"]["execCPUAffinity"] = {"initial": "0", "final": "1"}

    cid, pid = running(runtime, affinity)
    # Not the init's (the spec): it keeps every CPU.
    assert status_value(pid, "Cpus_allowed_list") == f"0-{os.cpu_count() - 1}"
    out = runtime("exec", cid, "grep", "Cpus_allowed_list", "/proc/self/status", check=True).stdout
    assert out.split()[-1] == "1"


def test_intel_rdt_without_resctrl_is_refused(runtime):
    with open("/proc/filesystems") as f:
        if "resctrl" in f.read():
            pytest.skip("this host has resctrl")

    def rdt(config):
        config["linux"]["intelRdt"] = {"closID": "guaranteed"}

    cid = runtime.new_id()
    proc = runtime("create", "-b", runtime.bundle(["true"], rootfs=runtime.rootfs, mutate=rdt), cid)
    assert proc.returncode == 1 and "linux.intelRdt: this host has no resctrl filesystem" in proc.stderr
