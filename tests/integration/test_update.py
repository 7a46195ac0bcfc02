"""update on a real container: -r FILE, -r - (stdin, as containerd passes
it), runc's flags, checkBeforeUpdate, and the refusals; each value read
back from the host's cgroupfs."""
import json
import os
import subprocess

import pytest

from pyoci.cgroups import hierarchies
from test_isolation import created


def controller_dir(pid, controller):
    """The host path of pid's cgroup in the v1 hierarchy of controller."""
    mount = next((h.mountpoint for h in hierarchies() if not h.v2 and controller in h.controllers), None)
    if mount is None:
        pytest.skip(f"no v1 {controller} controller on this host")
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            if controller in controllers.split(","):
                return mount + path
    raise AssertionError(f"pid {pid} is in no {controller} cgroup")


def read(directory, name):
    with open(os.path.join(directory, name)) as f:
        return f.read().strip()


def running(runtime, resources=None):
    def mutate(config):
        config["linux"]["resources"] = dict(config["linux"].get("resources", {}), **(resources or {}))

    cid, pid = created(runtime, mutate=mutate)
    runtime("start", cid, check=True)
    return cid, pid


def test_flags_set_memory_pids_and_cpu(runtime):
    cid, pid = running(runtime)
    runtime("update", "--memory", "64m", "--memory-swap", "128m", "--pids-limit", "20",
            "--cpu-quota", "50000", "--cpu-period", "100000", "--cpu-share", "512", cid, check=True)
    assert read(controller_dir(pid, "memory"), "memory.limit_in_bytes") == str(64 << 20)
    assert read(controller_dir(pid, "memory"), "memory.memsw.limit_in_bytes") == str(128 << 20)
    assert read(controller_dir(pid, "pids"), "pids.max") == "20"
    cpu = controller_dir(pid, "cpu")
    assert (read(cpu, "cpu.cfs_quota_us"), read(cpu, "cpu.cfs_period_us"), read(cpu, "cpu.shares")) == ("50000", "100000", "512")


def test_resources_from_a_file_and_from_stdin(runtime, tmp_path):
    cid, pid = running(runtime)
    resources = tmp_path / "resources.json"
    resources.write_text(json.dumps({"pids": {"limit": 33}}))
    runtime("update", "-r", str(resources), cid, check=True)
    assert read(controller_dir(pid, "pids"), "pids.max") == "33"
    proc = subprocess.run(runtime.cmd + ["--root", runtime.root, "update", "--resources=-", cid],
                          input=json.dumps({"pids": {"limit": 44}, "memory": {"limit": 96 << 20}}),
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert read(controller_dir(pid, "pids"), "pids.max") == "44"
    assert read(controller_dir(pid, "memory"), "memory.limit_in_bytes") == str(96 << 20)


def test_check_before_update_refuses_a_limit_below_usage(runtime):
    cid, pid = running(runtime, {"memory": {"limit": 64 << 20, "checkBeforeUpdate": True}})
    proc = runtime("update", "--memory", "4k", cid)
    assert proc.returncode == 1 and "checkBeforeUpdate" in proc.stderr
    assert read(controller_dir(pid, "memory"), "memory.limit_in_bytes") == str(64 << 20)


@pytest.mark.parametrize("args, field", [
    (["--memory", "lots"], "--memory"),
    (["--pids-limit", "x"], "--pids-limit"),
    (["-r", "/nonexistent/resources.json"], "--resources"),
    (["--l3-cache-schema", "L3:0=f"], "--l3-cache-schema"),
    (["--memory", "64m", "--memory-swap", "32m"], "linux.resources.memory.swap"),
])
def test_bad_updates_name_their_argument_and_change_nothing(runtime, args, field):
    cid, pid = running(runtime, {"memory": {"limit": 64 << 20, "swap": 128 << 20}})
    proc = runtime("update", *args, cid)
    assert proc.returncode == 1 and field in proc.stderr, proc.stderr
    assert read(controller_dir(pid, "memory"), "memory.limit_in_bytes") == str(64 << 20)


def test_a_stopped_container_cannot_be_updated(runtime):
    cid, _pid = created(runtime, ["true"])
    runtime("start", cid, check=True)
    for _ in range(100):
        if runtime.state(cid)["status"] == "stopped":
            break
        subprocess.run(["sleep", "0.02"])
    proc = runtime("update", "--pids-limit", "5", cid)
    assert proc.returncode == 1 and "stopped" in proc.stderr
