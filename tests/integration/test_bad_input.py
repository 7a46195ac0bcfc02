"""Bad input to `create` and the other commands: every case exits 1 with a
message naming the field or argument, and leaves nothing behind.

The config corpus is one table: (case id, a function mutating pyoci's
default config, a substring stderr must contain).  The schema and semantic
cases fail before anything is made; the runtime-stage cases fail inside the
container's setup after clone(), where undoing the half-made container is
what matters (the fixture's teardown checks: no state dir, no cgroup, no
mount, no process).
"""
import json
import os
import time

import pytest

from leftovers import assert_nothing_left

pytestmark = pytest.mark.root


# -- helpers for the mutations ----------------------------------------------

def _set(path, value):
    """Set config[path...] = value."""
    def mutate(config):
        node = config
        for key in path[:-1]:
            node = node.setdefault(key, {}) if isinstance(key, str) else node[key]
        node[path[-1]] = value
    return mutate


def _delete(path):
    def mutate(config):
        node = config
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
    return mutate


def _ns_index(config, kind):
    return next(i for i, ns in enumerate(config["linux"]["namespaces"]) if ns["type"] == kind)


def _ns_path(kind, path):
    """Join the namespace of this type by path instead of making a new one."""
    def mutate(config):
        config["linux"]["namespaces"][_ns_index(config, kind)]["path"] = path
    return mutate


def _drop_ns(kind):
    def mutate(config):
        config["linux"]["namespaces"] = [ns for ns in config["linux"]["namespaces"] if ns["type"] != kind]
    return mutate


def _add_ns(entry):
    def mutate(config):
        config["linux"]["namespaces"].append(dict(entry))
    return mutate


def _both(*fns):
    def mutate(config):
        for fn in fns:
            fn(config)
    return mutate


def _add_mount(mount):
    def mutate(config):
        config["mounts"].append(dict(mount))
    return mutate


def _hooks(phase, hooks):
    def mutate(config):
        config.setdefault("hooks", {})[phase] = [dict(h) for h in hooks]
    return mutate


def _rlimits(rlimits):
    return _set(("process", "rlimits"), [dict(r) for r in rlimits])


def _devices(devices):
    return _set(("linux", "devices"), [dict(d) for d in devices])


def _args(args):
    return _set(("process", "args"), list(args))


ONE_TO_ONE = [{"containerID": 0, "hostID": 0, "size": 65536}]
N_DEFAULT_MOUNTS = 7  # pyoci.spec.default: the index an appended mount gets

# -- the corpus: (id, mutation, expected stderr substring) --------------------

SCHEMA_CASES = [
    ("args-not-array", _set(("process", "args"), "sh"), "process.args"),
    ("terminal-not-bool", _set(("process", "terminal"), "yes"), "process.terminal"),
    ("env-item-not-string", _set(("process", "env"), [1]), "process.env[0]"),
    ("hostname-not-string", _set(("hostname",), 5), "hostname"),
    ("mount-destination-not-string", lambda c: c["mounts"][0].__setitem__("destination", 5), "mounts[0].destination"),
    ("missing-process-cwd", _delete(("process", "cwd")), "'cwd' is a required property"),
    ("missing-process-args", _delete(("process", "args")), "'args' is a required property"),
    ("missing-root", _delete(("root",)), "'root' is a required property"),
    ("missing-ociVersion", _delete(("ociVersion",)), "'ociVersion' is a required property"),
    ("ociVersion-2.0.0", _set(("ociVersion",), "2.0.0"), "ociVersion: '2.0.0'"),
    ("bad-namespace-type", _add_ns({"type": "foo"}), "linux.namespaces[6].type"),
    ("bad-device-type", _devices([{"path": "/dev/x", "type": "x", "major": 1, "minor": 3}]), "linux.devices[0].type"),
    ("negative-uid", _set(("process", "user", "uid"), -1), "process.user.uid"),
    ("hook-without-path", _hooks("createRuntime", [{"args": ["true"]}]), "hooks.createRuntime[0]"),
    ("hook-timeout-not-integer", _hooks("createRuntime", [{"path": "/bin/true", "timeout": "1"}]),
     "hooks.createRuntime[0].timeout"),
    ("hook-timeout-float", _hooks("createRuntime", [{"path": "/bin/true", "timeout": 1.5}]),
     "hooks.createRuntime[0].timeout"),
    ("rlimit-type-lowercase", _rlimits([{"type": "nofile", "soft": 1, "hard": 1}]), "process.rlimits[0].type"),
    ("rlimit-type-unknown", _rlimits([{"type": "RLIMIT_FOO", "soft": 1, "hard": 1}]), "process.rlimits[0].type"),
    ("bad-rootfsPropagation", _set(("linux", "rootfsPropagation"), "bogus"), "linux.rootfsPropagation"),
    ("mapping-without-size", _both(_add_ns({"type": "user"}), _set(("linux", "uidMappings"), [{"containerID": 0, "hostID": 0}]),
                                   _set(("linux", "gidMappings"), ONE_TO_ONE)), "linux.uidMappings[0]"),
]

SEMANTIC_CASES = [
    ("relative-cwd", _set(("process", "cwd"), "tmp"), "process.cwd"),
    ("empty-args0", _args([""]), "process.args[0]"),
    ("env-without-equals", _set(("process", "env"), ["PATH=/bin", "JUSTANAME"]), "process.env[1]"),
    ("relative-mount-destination", _add_mount({"destination": "mnt", "type": "tmpfs", "source": "tmpfs"}),
     f"mounts[{N_DEFAULT_MOUNTS}].destination"),
    ("relative-hook-path", _hooks("createRuntime", [{"path": "bin/true"}]), "hooks.createRuntime[0].path"),
    ("relative-namespace-path", _ns_path("ipc", "proc/self/ns/ipc"), "linux.namespaces[2].path"),
    ("duplicate-namespace", _add_ns({"type": "pid"}), "linux.namespaces"),
    ("uidMappings-without-userns", _set(("linux", "uidMappings"), ONE_TO_ONE), "linux.uidMappings"),
    ("gidMappings-without-userns", _set(("linux", "gidMappings"), ONE_TO_ONE), "linux.gidMappings"),
    ("new-userns-without-mappings", _add_ns({"type": "user"}), "linux.uidMappings"),
    ("timeOffsets-without-timens", _set(("linux", "timeOffsets"), {"monotonic": {"secs": 1}}), "linux.timeOffsets"),
    ("namespace-path-missing", _ns_path("ipc", "/nonexistent/ns/ipc"), "linux.namespaces[2].path"),
    ("namespace-path-wrong-type", _ns_path("ipc", "/proc/self/ns/net"), "linux.namespaces[2].path"),
    ("namespace-path-not-a-namespace", _ns_path("ipc", "/etc/hostname" if os.path.exists("/etc/hostname") else "/etc/passwd"),
     "linux.namespaces[2].path"),
    ("hostname-without-uts", _drop_ns("uts"), "hostname"),
    ("domainname-without-uts", _both(_drop_ns("uts"), _delete(("hostname",)), _set(("domainname",), "x")), "domainname"),
    ("net-sysctl-without-netns", _both(_drop_ns("network"), _set(("linux", "sysctl"), {"net.ipv4.ip_forward": "1"})),
     "linux.sysctl.net.ipv4.ip_forward"),
    ("ipc-sysctl-without-ipcns", _both(_drop_ns("ipc"), _set(("linux", "sysctl"), {"kernel.shmmax": "1"})),
     "linux.sysctl.kernel.shmmax"),
    ("non-namespaced-sysctl", _set(("linux", "sysctl"), {"vm.swappiness": "10"}), "linux.sysctl.vm.swappiness"),
    ("missing-root-path", _set(("root", "path"), "/nonexistent-rootfs-dir"), "root.path"),
    ("unknown-capability", lambda c: c["process"]["capabilities"]["bounding"].append("CAP_TEST"),
     "process.capabilities.bounding"),
    ("duplicate-rlimit", _rlimits([{"type": "RLIMIT_NOFILE", "soft": 1, "hard": 1}] * 2), "process.rlimits[1].type"),
    ("soft-rlimit-above-hard", _rlimits([{"type": "RLIMIT_NOFILE", "soft": 2048, "hard": 1024}]), "process.rlimits[0]"),
    ("idmap-without-mappings", _add_mount({"destination": "/mnt", "type": "bind", "source": "/tmp", "options": ["bind", "idmap"]}),
     f"mounts[{N_DEFAULT_MOUNTS}].options"),
    ("bind-source-missing", _add_mount({"destination": "/mnt", "type": "bind", "source": "/nonexistent-src",
                                        "options": ["rbind"]}), f"mounts[{N_DEFAULT_MOUNTS}].source"),
    ("bind-without-source", _add_mount({"destination": "/mnt", "type": "bind", "options": ["rbind"]}),
     f"mounts[{N_DEFAULT_MOUNTS}].source"),
    ("seccomp-notify-without-listener", _set(("linux", "seccomp"), {
        "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_NOTIFY"}]}),
     "linux.seccomp.listenerPath"),
    ("apparmor-without-apparmor", _set(("process", "apparmorProfile"), "containers-default"), "process.apparmorProfile"),
    ("seccomp-bad-action", _set(("linux", "seccomp"), {"defaultAction": "SCMP_ACT_MAYBE"}), "linux.seccomp.defaultAction"),
    ("terminal-without-console-socket", _set(("process", "terminal"), True), "process.terminal"),
]

# Fail inside the container's setup, after clone(): the half-made container
# (process, cgroups, mounts, state dir) must be undone.
RUNTIME_CASES = [
    ("args0-not-found", _args(["nosuch-program-xyz"]), "process.args[0]"),
    ("seccomp-agent-missing", _set(("linux", "seccomp"), {
        "defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/pyoci-test-no-agent.sock",
        "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_NOTIFY"}]}), "linux.seccomp.listenerPath"),
    ("mount-unknown-fstype", _add_mount({"destination": "/tmp", "type": "nosuchfs", "source": "none"}),
     f"mounts[{N_DEFAULT_MOUNTS}]"),
    ("createRuntime-hook-fails", _hooks("createRuntime", [{"path": "/bin/false"}]), "hooks.createRuntime[0]"),
    ("prestart-hook-fails", _hooks("prestart", [{"path": "/bin/sh", "args": ["sh", "-c", "exit 3"]}]),
     "hooks.prestart[0]"),
    ("createRuntime-hook-times-out", _hooks("createRuntime", [{"path": "/bin/sleep", "args": ["sleep", "30"], "timeout": 1}]),
     "hooks.createRuntime[0]"),
    ("createContainer-hook-fails", _hooks("createContainer", [{"path": "/bin/false"}]), "hooks.createContainer[0]"),
    ("cwd-missing-in-rootfs", _set(("process", "cwd"), "/nonexistent-cwd"), "process.cwd"),
    ("device-parent-is-file", _devices([{"path": "/bin/sh/x", "type": "c", "major": 1, "minor": 3}]), "linux.devices[0]"),
    # The kernel refuses a memory+swap limit below the memory limit.
    ("memory-swap-below-limit", _set(("linux", "resources"), {"memory": {"limit": 1 << 26, "swap": 1 << 25}}),
     "linux.resources.memory.swap"),
]

CASES = SCHEMA_CASES + SEMANTIC_CASES + RUNTIME_CASES
assert len(CASES) >= 35
assert len({c[0] for c in CASES}) == len(CASES)


def no_state_entry(runtime, cid):
    if os.path.isdir(runtime.root):
        assert cid not in os.listdir(runtime.root), f"{cid}: state entry left in {runtime.root}"


def assert_fails(proc, needle):
    assert proc.returncode == 1, f"exit {proc.returncode}, stderr: {proc.stderr!r}"
    assert needle in proc.stderr, f"{needle!r} not in stderr: {proc.stderr!r}"


@pytest.mark.parametrize("mutate,needle", [pytest.param(fn, needle, id=name) for name, fn, needle in CASES])
def test_bad_config(runtime, mutate, needle):
    cid = runtime.new_id("bad")
    bundle = runtime.bundle(["true"], rootfs=runtime.rootfs, mutate=mutate)
    proc = runtime("create", "-b", bundle, cid)
    assert_fails(proc, needle)
    no_state_entry(runtime, cid)
    # At once, not only after the teardown's delete --force: the failed
    # create itself must have undone its process, cgroups and mounts.
    assert_nothing_left(runtime.root, cid, runtime.tmp, runtime.rootfs)


@pytest.mark.parametrize("name, text, extra", [
    ("notjson", '{"ociVersion": "1.3.0", "process": ', "JSON"),
    ("array", "[]", "object"),
])
def test_config_not_a_json_object(runtime, name, text, extra):
    cid = runtime.new_id("bad")
    bundle = os.path.join(runtime.tmp, name)
    os.makedirs(bundle)
    with open(os.path.join(bundle, "config.json"), "w") as f:
        f.write(text)
    proc = runtime("create", "-b", bundle, cid)
    assert_fails(proc, "config.json")
    assert extra in proc.stderr
    no_state_entry(runtime, cid)


def test_config_missing(runtime):
    cid = runtime.new_id("bad")
    bundle = os.path.join(runtime.tmp, "empty")
    os.makedirs(bundle)
    assert_fails(runtime("create", "-b", bundle, cid), "config.json")
    no_state_entry(runtime, cid)


# -- bad command lines ----------------------------------------------------------

def created(runtime, args=("sleep", "1000")):
    cid = runtime.new_id()
    bundle = runtime.bundle(list(args), rootfs=runtime.rootfs)
    runtime("create", "-b", bundle, cid, check=True)
    assert runtime.state(cid)["status"] == "created"
    return cid


def running(runtime, args=("sleep", "1000")):
    cid = created(runtime, args)
    runtime("start", cid, check=True)
    return cid


def wait_status(runtime, cid, status, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        now = runtime.state(cid)["status"]
        if now == status or time.monotonic() > deadline:
            return now
        time.sleep(0.02)


def test_unknown_global_flag(runtime):
    cid = runtime.new_id("bad")
    bundle = runtime.bundle(["true"], rootfs=runtime.rootfs)
    proc = runtime("--no-such-flag", "create", "-b", bundle, cid)
    assert_fails(proc, "--no-such-flag")
    no_state_entry(runtime, cid)


def test_global_flag_without_value(runtime):
    proc = runtime("--log")
    assert_fails(proc, "--log")


def test_unknown_subcommand(runtime):
    cid = runtime.new_id("bad")
    assert_fails(runtime("frobnicate", cid), "frobnicate")
    no_state_entry(runtime, cid)


def test_create_without_id(runtime):
    bundle = runtime.bundle(["true"], rootfs=runtime.rootfs)
    proc = runtime("create", "-b", bundle)
    assert_fails(proc, "ID")
    assert not os.path.isdir(runtime.root) or os.listdir(runtime.root) == []


def test_unknown_create_flag(runtime):
    cid = runtime.new_id("bad")
    bundle = runtime.bundle(["true"], rootfs=runtime.rootfs)
    assert_fails(runtime("create", "--no-such-flag", "-b", bundle, cid), "--no-such-flag")
    no_state_entry(runtime, cid)


def test_bundle_missing(runtime):
    cid = runtime.new_id("bad")
    missing = os.path.join(runtime.tmp, "no-such-bundle")
    proc = runtime("create", "--bundle", missing, cid)
    assert_fails(proc, "bundle")
    assert missing in proc.stderr
    no_state_entry(runtime, cid)


def test_log_format_xml(runtime):
    cid = runtime.new_id("bad")
    bundle = runtime.bundle(["true"], rootfs=runtime.rootfs)
    assert_fails(runtime("create", "-b", bundle, cid, global_args=("--log-format", "xml")), "--log-format")
    no_state_entry(runtime, cid)


def test_rootless_bad_value(runtime):
    assert_fails(runtime("list", global_args=("--rootless=maybe",)), "--rootless")


def test_negative_preserve_fds(runtime):
    cid = runtime.new_id("bad")
    bundle = runtime.bundle(["true"], rootfs=runtime.rootfs)
    assert_fails(runtime("create", "--preserve-fds", "-1", "-b", bundle, cid), "--preserve-fds")
    no_state_entry(runtime, cid)


def test_pid_file_in_a_missing_directory(runtime):
    """The pid file is written last: its failure names the flag and undoes the create."""
    cid = runtime.new_id("bad")
    bundle = runtime.bundle(["sleep", "1000"], rootfs=runtime.rootfs)
    missing = os.path.join(runtime.tmp, "no-such-dir", "pid")
    assert_fails(runtime("create", "--pid-file", missing, "-b", bundle, cid), f"--pid-file {missing}: no such file")
    no_state_entry(runtime, cid)


@pytest.mark.parametrize("bad_id", ["..", "a/b"])
def test_invalid_container_id(runtime, bad_id):
    bundle = runtime.bundle(["true"], rootfs=runtime.rootfs)
    assert_fails(runtime("create", "-b", bundle, bad_id), "invalid container id")
    assert not os.path.isdir(runtime.root) or os.listdir(runtime.root) == []


def test_kill_unknown_signal(runtime):
    cid = created(runtime)
    proc = runtime("kill", cid, "SIGFOO")
    assert_fails(proc, "SIGFOO")
    assert runtime.state(cid)["status"] == "created"


@pytest.mark.parametrize("command", [("start",), ("state",), ("kill",), ("kill", "--all"), ("delete",)])
def test_missing_container(runtime, command):
    cid = runtime.new_id("bad")
    args = list(command) + [cid]
    if command == ("kill", "--all"):
        args = ["kill", "--all", cid, "KILL"]
    proc = runtime(*args)
    assert_fails(proc, "does not exist")
    assert cid in proc.stderr
    no_state_entry(runtime, cid)


def test_delete_force_missing_is_ok(runtime):
    cid = runtime.new_id("bad")
    proc = runtime("delete", "--force", cid)
    assert proc.returncode == 0, proc.stderr
    no_state_entry(runtime, cid)


def test_create_twice(runtime):
    cid = created(runtime)
    first = runtime.state(cid)
    bundle = runtime.bundle(["true"], rootfs=runtime.rootfs)
    proc = runtime("create", "-b", bundle, cid)
    assert_fails(proc, "already exists")
    again = runtime.state(cid)
    assert again == first
    assert again["status"] == "created"
    os.kill(again["pid"], 0)  # the first init is still there


def test_delete_running_without_force(runtime):
    cid = running(runtime)
    assert runtime.state(cid)["status"] == "running"
    proc = runtime("delete", cid)
    assert_fails(proc, "not stopped")
    state = runtime.state(cid)
    assert state["status"] == "running"
    os.kill(state["pid"], 0)


def test_delete_created_without_force(runtime):
    cid = created(runtime)
    assert_fails(runtime("delete", cid), "not stopped")
    assert runtime.state(cid)["status"] == "created"


def test_start_twice(runtime):
    cid = running(runtime)
    proc = runtime("start", cid)
    assert proc.returncode == 1, proc.stderr
    assert "running" in proc.stderr
    assert runtime.state(cid)["status"] == "running"


def test_start_stopped(runtime):
    cid = running(runtime, ("true",))
    assert wait_status(runtime, cid, "stopped") == "stopped"
    assert_fails(runtime("start", cid), "stopped")


def test_kill_stopped(runtime):
    cid = running(runtime, ("true",))
    assert wait_status(runtime, cid, "stopped") == "stopped"
    proc = runtime("kill", cid, "KILL")
    assert_fails(proc, "not running")
    assert runtime.state(cid)["status"] == "stopped"
    runtime("delete", cid, check=True)
    no_state_entry(runtime, cid)


def test_start_fails_after_release_leaves_stopped(runtime):
    """A startContainer hook that fails: start exits 1 naming the hook; the
    container ends stopped and delete (without -f) removes it."""
    cid = runtime.new_id()
    bundle = runtime.bundle(["sleep", "1000"], rootfs=runtime.rootfs,
                            mutate=_hooks("startContainer", [{"path": "/bin/false"}]))
    runtime("create", "-b", bundle, cid, check=True)
    proc = runtime("start", cid)
    assert_fails(proc, "hooks.startContainer[0]")
    assert wait_status(runtime, cid, "stopped") == "stopped"
    runtime("delete", cid, check=True)
    no_state_entry(runtime, cid)


def test_state_output_is_json_after_errors(runtime):
    """Failed commands do not corrupt the state of a healthy container."""
    cid = created(runtime)
    runtime("kill", cid, "NOPE")
    runtime("start", cid + "-other")
    state = json.loads(runtime("state", cid, check=True).stdout)
    assert state["id"] == cid and state["status"] == "created"


# createRuntime hooks run in create's own process; createContainer hooks in
# the child, while create waits on the sync socket for its next message.
@pytest.mark.parametrize("hook", ["createRuntime", "createContainer"])
def test_create_terminated_during_a_hook_leaves_nothing(runtime, hook):
    import signal
    import subprocess

    def mutate(config):
        config["hooks"] = {hook: [{"path": "/bin/sleep", "args": ["sleep", "30"]}]}

    cid = runtime.new_id("bad")
    bundle = runtime.bundle(["true"], rootfs=runtime.rootfs, mutate=mutate)
    proc = subprocess.Popen(runtime.cmd + ["--root", runtime.root, "create", "-b", bundle, cid],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while not os.path.exists(os.path.join(runtime.root, cid, "state.json")) and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 1 and b"interrupted" in err
    assert_nothing_left(runtime.root, cid, runtime.tmp, runtime.rootfs)
