"""Lifecycle transitions, the state JSON, pid files, kill, delete, run and
locking, seen from outside (host /proc, the state) with real containers."""
import json
import os
import shutil
import signal
import subprocess
import threading
import time

import jsonschema
import pytest

SPEC_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "spec")


def wait_status(runtime, cid, wanted, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if runtime.state(cid)["status"] == wanted:
            return
        time.sleep(0.02)
    raise AssertionError(f"{cid} never reached {wanted}: {runtime.state(cid)}")


def host_state_letter(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


@pytest.fixture
def sleeper(runtime):
    """A created container whose program sleeps."""
    cid = runtime.new_id()
    bundle = runtime.bundle(["sleep", "1000"], rootfs=runtime.rootfs)
    runtime("create", "--bundle", bundle, "--pid-file", os.path.join(bundle, "pid"), cid, check=True)
    return cid, bundle


def test_create_start_kill_delete_transitions(runtime, sleeper):
    cid, bundle = sleeper
    state = runtime.state(cid)
    assert state["status"] == "created"
    assert state["id"] == cid and state["bundle"] == bundle and state["ociVersion"] == "1.3.0"
    pid = state["pid"]
    with open(os.path.join(bundle, "pid")) as f:
        assert int(f.read()) == pid, "the pid file holds the init's host pid"
    assert host_state_letter(pid) in "SR", "the init waits for start"

    runtime("start", cid, check=True)
    assert runtime.state(cid)["status"] == "running"
    with open(f"/proc/{pid}/cmdline") as f:
        assert f.read().split("\0")[0] == "sleep"

    runtime("kill", cid, "KILL", check=True)
    wait_status(runtime, cid, "stopped")
    assert runtime.state(cid)["pid"] == 0
    runtime("delete", cid, check=True)
    assert runtime("state", cid).returncode == 1


def freezer_of(pid):
    """The container's freezer files as the host mounts them: v1 freezer.state, v2 cgroup.freeze."""
    found = []
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            if "freezer" in controllers.split(","):
                found.append(f"/sys/fs/cgroup/freezer{path}/freezer.state")
    return [p for p in found if os.path.exists(p)]


def test_a_frozen_container_is_paused(runtime, sleeper):
    cid, _ = sleeper
    runtime("start", cid, check=True)
    pid = runtime.state(cid)["pid"]
    files = freezer_of(pid)
    if not files:
        pytest.skip("no v1 freezer hierarchy on this host")
    try:
        with open(files[0], "w") as f:
            f.write("FROZEN")
        wait_status(runtime, cid, "paused")
    finally:
        with open(files[0], "w") as f:
            f.write("THAWED")
    wait_status(runtime, cid, "running")


def test_state_matches_the_spec_schema(runtime, sleeper):
    cid, _ = sleeper
    with open(os.path.join(SPEC_DIR, "state-schema.json")) as f:
        schema = json.load(f)
    jsonschema.validate(runtime.state(cid), schema)
    runtime("start", cid, check=True)
    jsonschema.validate(runtime.state(cid), schema)


@pytest.mark.parametrize("sig", ["TERM", "SIGTERM", "15", "term"])
def test_kill_signal_forms_end_a_created_container(runtime, sleeper, sig):
    cid, _ = sleeper
    runtime("kill", cid, sig, check=True)
    wait_status(runtime, cid, "stopped")


def test_kill_all_signals_every_process(runtime):
    cid = runtime.new_id()
    bundle = runtime.bundle(["sh", "-c", "sleep 1000 & sleep 1000 & wait"], rootfs=runtime.rootfs)
    runtime("run", "-d", "-b", bundle, cid, check=True)
    pid = runtime.state(cid)["pid"]
    children_file = f"/proc/{pid}/task/{pid}/children"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with open(children_file) as f:
            children = [int(c) for c in f.read().split()]
        if len(children) == 2:
            break
        time.sleep(0.02)
    runtime("kill", "--all", cid, "KILL", check=True)
    wait_status(runtime, cid, "stopped")
    for child in children:
        assert not os.path.exists(f"/proc/{child}") or host_state_letter(child) == "Z"


def test_delete_refuses_created_and_running_without_force(runtime, sleeper):
    cid, _ = sleeper
    # The spec: delete of a container that is not stopped fails with no effect.
    proc = runtime("delete", cid)
    assert proc.returncode == 1 and "not stopped" in proc.stderr
    assert runtime.state(cid)["status"] == "created"
    runtime("start", cid, check=True)
    assert runtime("delete", cid).returncode == 1
    assert runtime.state(cid)["status"] == "running"
    runtime("delete", "--force", cid, check=True)
    assert runtime("state", cid).returncode == 1


def test_list_table_json_and_quiet(runtime, sleeper):
    cid, bundle = sleeper
    table = runtime("list", check=True).stdout.splitlines()
    assert table[0].split() == ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]
    assert any(line.split()[:3] == [cid, str(runtime.state(cid)["pid"]), "created"] for line in table[1:])
    listed = json.loads(runtime("list", "--format", "json", check=True).stdout)
    assert [c["id"] for c in listed] == [cid] and listed[0]["bundle"] == bundle
    assert runtime("list", "-q", check=True).stdout.split() == [cid]


def test_run_exit_status(runtime):
    cid = runtime.new_id()
    bundle = runtime.bundle(["sh", "-c", "exit 3"], rootfs=runtime.rootfs)
    assert runtime("run", "-b", bundle, cid).returncode == 3
    assert not os.path.exists(os.path.join(runtime.root, cid)), "run deletes the container"


def test_run_killed_by_signal_exits_128_plus_n(runtime):
    cid = runtime.new_id()
    bundle = runtime.bundle(["sleep", "1000"], rootfs=runtime.rootfs)
    proc = subprocess.Popen(runtime.cmd + ["--root", runtime.root, "run", "-b", bundle, cid])
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if runtime("state", cid).returncode == 0 and runtime.state(cid)["status"] == "running":
                break
            time.sleep(0.02)
        runtime("kill", cid, "KILL", check=True)
        assert proc.wait(timeout=10) == 128 + signal.SIGKILL
    finally:
        proc.kill()
        proc.wait()


def test_run_detach_and_keep(runtime):
    cid = runtime.new_id()
    bundle = runtime.bundle(["sleep", "1000"], rootfs=runtime.rootfs)
    runtime("run", "--detach", "-b", bundle, cid, check=True)
    assert runtime.state(cid)["status"] == "running"
    runtime("delete", "-f", cid, check=True)

    cid2 = runtime.new_id()
    bundle2 = runtime.bundle(["true"], rootfs=runtime.rootfs)
    assert runtime("run", "--keep", "-b", bundle2, cid2).returncode == 0
    assert runtime.state(cid2)["status"] == "stopped"


def test_reused_pid_is_not_taken_for_the_container(runtime, sleeper):
    cid, _ = sleeper
    path = os.path.join(runtime.root, cid, "state.json")
    with open(path) as f:
        record = json.load(f)
    record["init_start_time"] += 1  # as if the pid now belonged to another process
    with open(path, "w") as f:
        json.dump(record, f)
    assert runtime.state(cid)["status"] == "stopped"
    assert runtime("kill", cid, "KILL").returncode == 1
    # Put it back so the fixture can clean up the real init.
    record["init_start_time"] -= 1
    with open(path, "w") as f:
        json.dump(record, f)


def test_concurrent_starts_release_the_container_once(runtime, sleeper):
    cid, _ = sleeper
    results = []

    def start():
        results.append(runtime("start", cid).returncode)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [0, 1, 1, 1]
    assert runtime.state(cid)["status"] == "running"


def test_log_json_records_the_error(runtime):
    log = os.path.join(runtime.tmp, "log.json")
    proc = runtime("start", "no-such-container", global_args=("--log", log, "--log-format=json"))
    assert proc.returncode == 1
    with open(log) as f:
        records = [json.loads(line) for line in f]
    assert records[-1]["level"] == "error"
    assert "container does not exist" in records[-1]["msg"]
    assert records[-1]["time"].endswith("Z")


def test_version_and_features(runtime):
    out = runtime("--version", check=True).stdout.splitlines()
    assert out[0].startswith("pyoci version ") and "spec: 1.3.0" in out
    features = json.loads(runtime("features", check=True).stdout)
    assert features["ociVersionMax"] == "1.3.0"
    assert "time" in features["linux"]["namespaces"]


def test_spec_writes_a_config_that_validates(runtime, tmp_path):
    runtime("spec", "--bundle", str(tmp_path), check=True)
    with open(tmp_path / "config.json") as f:
        config = json.load(f)
    with open(os.path.join(SPEC_DIR, "config-schema.json")) as f:
        jsonschema.validate(config, json.load(f))
    assert runtime("spec", "--bundle", str(tmp_path)).returncode == 1, "an existing config.json is kept"


def test_create_dry_run_prints_the_plan_and_creates_nothing(runtime):
    cid = runtime.new_id()
    bundle = runtime.bundle(["true"], rootfs=runtime.rootfs)
    proc = runtime("create", "--dry-run", "-b", bundle, cid, check=True)
    assert "PIVOT_ROOT" in proc.stdout and "# mounts[0] /proc: mount" in proc.stdout
    assert proc.stdout.splitlines()[-1].split()[1] == "EXEC"
    assert not os.path.exists(os.path.join(runtime.root, cid))


def test_start_without_process_fails_and_the_container_stops(runtime):
    # The spec lets create succeed without a process; start MUST then fail.
    # The init, with nothing to run, exits: a plain delete then removes it.
    cid = runtime.new_id()
    bundle = runtime.bundle(["true"], rootfs=runtime.rootfs, mutate=lambda c: c.pop("process"))
    runtime("create", "-b", bundle, cid, check=True)
    proc = runtime("start", cid)
    assert proc.returncode == 1 and "without a process" in proc.stderr
    wait_status(runtime, cid, "stopped")
    runtime("delete", cid, check=True)


def test_capset_refusal_names_what_the_runtime_lacks(runtime):
    with open("/proc/self/status") as f:
        bounding = int(next(line for line in f if line.startswith("CapBnd:")).split()[1], 16)
    from pyoci.security.capabilities import NAMES

    lacking = [name for i, name in enumerate(NAMES) if not bounding & (1 << i)]
    if not lacking:
        pytest.skip("this runtime's bounding set has every capability")

    def mutate(config):
        for s in ("bounding", "permitted", "effective"):
            config["process"]["capabilities"][s].append(lacking[0])

    cid = runtime.new_id()
    proc = runtime("create", "-b", runtime.bundle(["true"], rootfs=runtime.rootfs, mutate=mutate), cid)
    assert proc.returncode == 1
    assert f"{lacking[0]} not in the runtime's bounding set" in proc.stderr


def test_annotations_are_carried_into_the_state(runtime):
    def annotated(config):
        config["annotations"] = {"org.example.owner": "team-a", "io.kubernetes.pod": "web-0"}

    cid = runtime.new_id()
    runtime("create", "-b", runtime.bundle(["true"], rootfs=runtime.rootfs, mutate=annotated), cid, check=True)
    assert runtime.state(cid)["annotations"] == {"org.example.owner": "team-a", "io.kubernetes.pod": "web-0"}


@pytest.mark.skipif(not shutil.which("runc"), reason="runc is not installed")
def test_a_config_from_runc_spec_runs(runtime, tmp_path):
    # A drop-in runs what `runc spec` writes: its ambient capabilities, which
    # are not inheritable, are left unraised with a warning, as runc does.
    subprocess.run(["runc", "spec", "--bundle", str(tmp_path)], check=True)
    with open(tmp_path / "config.json") as f:
        config = json.load(f)
    config["root"]["path"] = runtime.rootfs
    config["process"].update(terminal=False, args=["sh", "-c", "grep CapAmb /proc/self/status"])
    with open(tmp_path / "config.json", "w") as f:
        json.dump(config, f)
    proc = runtime("run", "-b", str(tmp_path), runtime.new_id())
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["CapAmb:", "0000000000000000"]
