"""Hooks: each phase at its point in the lifecycle, in the namespace the spec
names, reading the state on stdin, with its args, env and timeout, and the
spec's failure rules."""
import json
import os
import sys
import time

import pytest

from leftovers import assert_nothing_left

PHASES_ON_HOST = ("prestart", "createRuntime", "createContainer", "poststart", "poststop")


def recorder(log, phase):
    """A hook (host paths) that appends `phase`, its argv, env and stdin to log."""
    script = (f'printf "%s|%s|%s|" "{phase}" "$0 $1" "$HOOK_ENV" >> {log}; '
              f'readlink /proc/self/ns/mnt | tr -d "\\n" >> {log}; printf "|" >> {log}; cat >> {log}; echo >> {log}')
    return {"path": "/bin/sh", "args": ["sh", "-c", script, "zero", "one"], "env": [f"HOOK_ENV={phase}-env"]}


def read_log(path):
    entries = []
    with open(path) as f:
        for line in f:
            phase, argv, env, mntns, state = line.rstrip("\n").split("|", 4)
            entries.append({"phase": phase, "argv": argv, "env": env, "mntns": mntns, "state": json.loads(state)})
    return entries


def test_hook_order_state_args_env_and_namespace(runtime, tmp_path):
    log = tmp_path / "hooks.log"
    inside_dir = tmp_path / "inside"
    inside_dir.mkdir()

    def mutate(config):
        hooks = {phase: [recorder(log, phase)] for phase in PHASES_ON_HOST}
        # startContainer runs in the container after pivot_root: its path and
        # the log it writes are the container's.
        hooks["startContainer"] = [{
            "path": "/bin/sh",
            "args": ["sh", "-c", "printf 'startContainer|%s %s|%s|' \"$0\" \"$1\" \"$HOOK_ENV\" >> /hooklog/log; "
                                 "readlink /proc/self/ns/mnt | tr -d '\\n' >> /hooklog/log; printf '|' >> /hooklog/log; "
                                 "cat >> /hooklog/log; echo >> /hooklog/log", "zero", "one"],
            "env": ["HOOK_ENV=startContainer-env"],
        }]
        config["hooks"] = hooks
        config["mounts"].append({"destination": "/hooklog", "type": "bind", "source": str(inside_dir), "options": ["bind"]})

    cid = runtime.new_id()
    bundle = runtime.bundle(["sleep", "1000"], rootfs=runtime.rootfs, mutate=mutate)
    runtime("create", "-b", bundle, cid, check=True)
    pid = runtime.state(cid)["pid"]
    container_mntns = os.readlink(f"/proc/{pid}/ns/mnt")
    host_mntns = os.readlink("/proc/self/ns/mnt")
    assert [e["phase"] for e in read_log(log)] == ["prestart", "createRuntime", "createContainer"]
    runtime("start", cid, check=True)
    runtime("kill", cid, "KILL", check=True)
    for _ in range(200):
        if runtime.state(cid)["status"] == "stopped":
            break
    runtime("delete", cid, check=True)

    host = read_log(log)
    inside = read_log(inside_dir / "log")
    assert [e["phase"] for e in host] == ["prestart", "createRuntime", "createContainer", "poststart", "poststop"]
    assert [e["phase"] for e in inside] == ["startContainer"]
    for e in host + inside:
        # Were args[0] not argv[0], sh would take "sh" for a script to run.
        assert e["argv"] == "zero one", "args reach the hook in order, args[0] as argv[0]"
        assert e["env"] == f"{e['phase']}-env"
        assert e["state"]["id"] == cid and e["state"]["bundle"] == bundle
        assert e["state"]["ociVersion"] == "1.3.0"
    by_phase = {e["phase"]: e for e in host + inside}
    for phase in ("prestart", "createRuntime", "poststart", "poststop"):
        assert by_phase[phase]["mntns"] == host_mntns, f"{phase} runs in the runtime's namespace"
    for phase in ("createContainer", "startContainer"):
        assert by_phase[phase]["mntns"] == container_mntns, f"{phase} runs in the container's namespace"
    # "created" after lifecycle step 2: the create-time hooks come after it.
    for phase in ("prestart", "createRuntime", "createContainer"):
        assert by_phase[phase]["state"]["status"] == "created"
    assert by_phase["createRuntime"]["state"]["pid"] == pid
    assert by_phase["startContainer"]["state"]["status"] == "created"
    assert by_phase["poststart"]["state"]["status"] == "running"
    assert by_phase["poststop"]["state"]["status"] == "stopped"


@pytest.mark.parametrize("phase", ["createRuntime", "createContainer"])
def test_hook_timeout_fails_create(runtime, phase):
    # createRuntime runs in the runtime, createContainer in the shim's child.
    def mutate(config):
        config["hooks"] = {phase: [{"path": "/bin/sleep", "args": ["sleep", "30"], "timeout": 1}]}

    cid = runtime.new_id()
    bundle = runtime.bundle(["true"], rootfs=runtime.rootfs, mutate=mutate)
    proc = runtime("create", "-b", bundle, cid)
    assert proc.returncode == 1
    assert f"hooks.{phase}[0]" in proc.stderr and "timed out" in proc.stderr


def test_a_huge_hook_timeout_does_not_wrap_around(runtime):
    """4294968 s is 4294968000 ms: in a 32-bit int that wraps to 704 ms,
    and the hook was killed long before its timeout."""
    def mutate(config):
        config["hooks"] = {"createContainer": [
            {"path": "/bin/sh", "args": ["sh", "-c", "sleep 1.5"], "timeout": 4294968}]}

    cid = runtime.new_id()
    proc = runtime("create", "-b", runtime.bundle(["true"], rootfs=runtime.rootfs, mutate=mutate), cid)
    assert proc.returncode == 0, proc.stderr
    runtime("delete", "--force", cid, check=True)


def test_a_hook_timeout_holds_where_pidfd_open_is_refused(runtime):
    """Without noNewPrivileges the seccomp filter is loaded before the
    startContainer hooks, so the init waits for them under a profile that
    refuses pidfd_open: the timeout must still end the hook."""
    def mutate(config):
        config["process"]["noNewPrivileges"] = False
        config["linux"]["seccomp"] = {
            "defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
            "syscalls": [{"names": ["pidfd_open"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]}
        config["hooks"] = {"startContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "sleep 30"], "timeout": 1}]}

    cid = runtime.new_id()
    runtime("create", "-b", runtime.bundle(["true"], rootfs=runtime.rootfs, mutate=mutate), cid, check=True)
    started = time.monotonic()
    proc = runtime("start", cid)
    assert time.monotonic() - started < 20, "the hook ran its 30 s"
    assert proc.returncode == 1
    assert "hooks.startContainer[0]" in proc.stderr and "timed out" in proc.stderr, proc.stderr
    runtime("delete", "--force", cid, check=True)


def test_an_init_killed_during_create_names_the_signal(runtime):
    """A createRuntime hook kills the init, as anything outside might at
    any point of create: create names the signal (not a bare "exited", nor
    the broken pipe of its next reply) and leaves nothing behind."""
    kill_init = "import json, os, sys; os.kill(json.load(sys.stdin)['pid'], 9)"

    def mutate(config):
        config["hooks"] = {"createRuntime": [{"path": sys.executable, "args": ["python3", "-c", kill_init]}]}

    cid = runtime.new_id()
    proc = runtime("create", "-b", runtime.bundle(["true"], rootfs=runtime.rootfs, mutate=mutate), cid)
    assert proc.returncode == 1
    assert "container init was killed by signal 9 during create" in proc.stderr, proc.stderr
    assert_nothing_left(runtime.root, cid, runtime.tmp, runtime.rootfs)


def test_failing_poststart_and_poststop_hooks_only_warn(runtime):
    def mutate(config):
        config["hooks"] = {"poststart": [{"path": "/bin/false"}], "poststop": [{"path": "/bin/false"}]}

    cid = runtime.new_id()
    bundle = runtime.bundle(["sleep", "1000"], rootfs=runtime.rootfs, mutate=mutate)
    runtime("create", "-b", bundle, cid, check=True)
    start = runtime("start", cid)
    assert start.returncode == 0 and "hooks.poststart[0]" in start.stderr
    assert runtime.state(cid)["status"] == "running"
    delete = runtime("delete", "--force", cid)
    assert delete.returncode == 0 and "hooks.poststop[0]" in delete.stderr
    assert runtime("state", cid).returncode == 1


def test_failing_start_container_hook_fails_start_and_stops_the_container(runtime):
    def mutate(config):
        config["hooks"] = {"startContainer": [{"path": "/bin/false"}]}

    cid = runtime.new_id()
    bundle = runtime.bundle(["sleep", "1000"], rootfs=runtime.rootfs, mutate=mutate)
    runtime("create", "-b", bundle, cid, check=True)
    start = runtime("start", cid)
    assert start.returncode == 1 and "hooks.startContainer[0]" in start.stderr
    for _ in range(500):
        if runtime.state(cid)["status"] == "stopped":
            break
    assert runtime.state(cid)["status"] == "stopped"
