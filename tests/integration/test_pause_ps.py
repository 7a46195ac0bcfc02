"""pause, resume and ps on real containers, seen from the host (the freezer,
the container's progress, host pids), and delete and SIGKILL of a paused container."""
import json
import os
import time

from test_isolation import created
from test_lifecycle import wait_status

# Grows /tmp/count by a byte at a time: progress the host can read, race-free, as its size.
COUNTER = ["sh", "-c", "while true; do echo -n x >> /tmp/count; done"]


def with_tmp(config):
    config["mounts"].append({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"})


def count(pid):
    for _ in range(100):
        try:
            return os.stat(f"/proc/{pid}/root/tmp/count").st_size
        except OSError:  # not written yet
            time.sleep(0.01)
    raise AssertionError("the counter never wrote")


def running_counter(runtime):
    cid, pid = created(runtime, COUNTER, mutate=with_tmp)
    runtime("start", cid, check=True)
    return cid, pid


def process_state(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0]
    except OSError:
        return None


def host_freezer_state(pid):
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            if "freezer" in controllers.split(","):
                with open(f"/sys/fs/cgroup/freezer{path}/freezer.state") as g:
                    return g.read().strip()
    return None


def test_pause_stops_every_process_and_resume_lets_them_go_on(runtime):
    cid, pid = running_counter(runtime)
    runtime("pause", cid, check=True)
    assert runtime.state(cid)["status"] == "paused"
    assert host_freezer_state(pid) in ("FROZEN", None)
    before = count(pid)
    time.sleep(0.3)
    assert count(pid) == before, "a paused container made progress"

    runtime("resume", cid, check=True)
    assert runtime.state(cid)["status"] == "running"
    assert host_freezer_state(pid) in ("THAWED", None)
    time.sleep(0.3)
    assert count(pid) > before


def test_pause_and_resume_refuse_the_wrong_status(runtime):
    cid, _pid = created(runtime)
    proc = runtime("pause", cid)
    assert proc.returncode == 1 and "created, not running" in proc.stderr
    assert runtime.state(cid)["status"] == "created"
    runtime("start", cid, check=True)
    proc = runtime("resume", cid)
    assert proc.returncode == 1 and "running, not paused" in proc.stderr
    assert runtime("pause", "no-such-container").returncode == 1


def test_a_paused_container_is_deleted_with_its_cgroups(runtime):
    cid, pid = running_counter(runtime)
    runtime("pause", cid, check=True)
    started = time.monotonic()
    runtime("delete", "--force", cid, check=True)
    assert time.monotonic() - started < 5, "delete waited for frozen processes"
    assert process_state(pid) in (None, "Z"), "the container's processes outlived its delete"
    # The runtime fixture then checks that no cgroup, mount or state is left.


def test_sigkill_ends_a_paused_container(runtime):
    """As runc does, kill thaws a paused container after SIGKILL: a frozen
    process acts on it only once thawed, and engines (containerd's
    `task delete --force`) wait for the kill to end the container."""
    cid, pid = running_counter(runtime)
    runtime("pause", cid, check=True)
    runtime("kill", cid, "KILL", check=True)
    wait_status(runtime, cid, "stopped")
    assert process_state(pid) in (None, "Z")


def ps_pids(runtime, cid, ready):
    """ps --format json, again until ready(pids) (the container is still starting its processes)."""
    for _ in range(100):
        pids = json.loads(runtime("ps", "--format", "json", cid, check=True).stdout)
        if ready(pids):
            break
        time.sleep(0.01)
    return pids


def test_ps_lists_the_containers_processes_by_host_pid(runtime):
    cid, pid = created(runtime, ["sh", "-c", "sleep 1000 & sleep 1000"])
    runtime("start", cid, check=True)
    pids = ps_pids(runtime, cid, lambda p: len(p) == 2)
    assert pid in pids and len(pids) == 2
    lines = runtime("ps", cid, check=True).stdout.splitlines()
    assert "PID" in lines[0].split()
    column = lines[0].split().index("PID")
    assert sorted(int(line.split()[column]) for line in lines[1:]) == sorted(pids)
    custom = runtime("ps", cid, "-o", "pid,comm", check=True).stdout.split()
    assert custom[:2] == ["PID", "COMMAND"] and custom.count("sleep") == 2


def test_delete_ends_processes_that_forked_away_without_a_pid_namespace(runtime):
    """Without a pid namespace the init's death does not take the rest with
    it: a daemon that double-forked away is found in the cgroup and killed."""
    def no_pid_namespace(config):
        config["linux"]["namespaces"] = [ns for ns in config["linux"]["namespaces"] if ns["type"] != "pid"]

    cid, pid = created(runtime, ["sh", "-c", "(sleep 1000 &) ; sleep 1000"], mutate=no_pid_namespace)
    runtime("start", cid, check=True)
    pids = ps_pids(runtime, cid, lambda p: len(p) == 2)
    assert len(pids) == 2  # the init (sh, exec'd into its last sleep) and the orphaned sleep
    runtime("delete", "--force", cid, check=True)
    assert all(process_state(p) in (None, "Z") for p in pids)


def test_no_cgroup_is_left_after_200_lifecycles(runtime):
    """create, start, wait, delete (as `run`) 200 times, with resources so that
    every controller's cgroup is made; the fixture checks each id afterwards."""
    def limits(config):
        config["linux"]["resources"] = dict(config["linux"].get("resources", {}),
                                            memory={"limit": 64 << 20}, pids={"limit": 64})

    bundle = runtime.bundle(["true"], rootfs=runtime.rootfs, mutate=limits)
    for _ in range(200):
        runtime("run", "-b", bundle, runtime.new_id(), check=True)


def without_pid_namespace_limited(config):
    config["linux"]["namespaces"] = [ns for ns in config["linux"]["namespaces"] if ns["type"] != "pid"]
    config["linux"]["resources"] = dict(config["linux"].get("resources", {}), pids={"limit": 64})


def test_delete_ends_a_process_that_keeps_forking(runtime):
    """The cgroup is frozen while its processes are killed, so a fork loop
    cannot outrun the kills."""
    cid, pid = created(runtime, ["sh", "-c", "while true; do sleep 1000 & done"], mutate=without_pid_namespace_limited)
    runtime("start", cid, check=True)
    pids = ps_pids(runtime, cid, lambda p: len(p) > 10)  # a loaded host forks slowly: wait for the loop
    assert len(pids) > 10, pids
    runtime("delete", "--force", cid, check=True)
    assert all(process_state(p) in (None, "Z") for p in pids + [pid])


def test_delete_ends_stopped_processes(runtime):
    cid, _pid = created(runtime, ["sh", "-c", "sleep 1000 & kill -STOP $!; sleep 1000"],
                        mutate=without_pid_namespace_limited)
    runtime("start", cid, check=True)
    pids = ps_pids(runtime, cid, lambda p: any(process_state(q) == "T" for q in p))
    assert any(process_state(p) == "T" for p in pids)
    runtime("delete", "--force", cid, check=True)
    assert all(process_state(p) in (None, "Z") for p in pids)
