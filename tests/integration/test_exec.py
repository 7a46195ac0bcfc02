"""exec in real containers: the new process joins every namespace and the
cgroups of the init, takes the container's process settings with exec's
flags over them (and the container's seccomp profile), and its exit status
is exec's; a runtime failure is 255 and leaves nothing running."""
import json
import os

import pytest

from fd_receiver import receive_once
from host_view import cgroup_dirs
from leftovers import cgroup_dirs_named
from test_isolation import DEFAULT_CAPS, created

NAMESPACES = ("pid", "mnt", "net", "ipc", "uts", "cgroup")


def running(runtime, mutate=None):
    cid, pid = created(runtime, mutate=mutate)
    runtime("start", cid, check=True)
    return cid, pid


def status_field(text, name):
    return next(line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith(name + ":"))


def test_the_process_joins_the_inits_namespaces_and_cgroups(runtime):
    cid, pid = running(runtime)
    script = "; ".join(f"readlink /proc/self/ns/{ns}" for ns in NAMESPACES) + "; cat /proc/self/cgroup"
    out = runtime("exec", cid, "sh", "-c", script, check=True).stdout.splitlines()
    assert out[:len(NAMESPACES)] == [os.readlink(f"/proc/{pid}/ns/{ns}") for ns in NAMESPACES]
    # The cgroup namespace shows the container's cgroup as its root.
    assert all(line.endswith(":/") for line in out[len(NAMESPACES):])


@pytest.mark.parametrize("script, status", [("exit 3", 3), ("kill -9 $$", 137), ("true", 0)])
def test_the_exit_status_is_the_commands(runtime, script, status):
    cid, _pid = running(runtime)
    assert runtime("exec", cid, "--", "sh", "-c", script).returncode == status


def test_a_runtime_failure_is_255_and_leaves_nothing_running(runtime):
    cid, _pid = running(runtime)
    proc = runtime("exec", cid, "no-such-program")
    assert proc.returncode == 255 and "process.args[0] no-such-program" in proc.stderr
    assert json.loads(runtime("ps", "--format", "json", cid, check=True).stdout) == [runtime.state(cid)["pid"]]
    assert runtime("exec", "no-such-container", "true").returncode == 255


def test_flags_over_the_containers_process(runtime):
    def without_nnp(config):
        config["process"]["noNewPrivileges"] = False
        config["process"]["env"].append("FROM_CONFIG=1")

    cid, _pid = running(runtime, without_nnp)
    out = runtime("exec", "-u", "1000:1000", "-g", "44", "-e", "FOO=bar", "--cwd", "/tmp", "--cap", "CAP_CHOWN",
                  "--no-new-privs", cid, "sh", "-c",
                  "id -u; id -g; id -G; echo $FOO $FROM_CONFIG; pwd; grep -E '^(CapBnd|NoNewPrivs)' /proc/self/status",
                  check=True).stdout
    lines = out.splitlines()
    assert lines[:5] == ["1000", "1000", "1000 44", "bar 1", "/tmp"]
    assert int(status_field(out, "CapBnd"), 16) == DEFAULT_CAPS | 1  # CAP_CHOWN is bit 0
    assert status_field(out, "NoNewPrivs") == "1"


def test_detach_and_pid_file(runtime, tmp_path):
    cid, _pid = running(runtime)
    pid_file = tmp_path / "exec.pid"
    runtime("exec", "-d", "--pid-file", str(pid_file), cid, "sleep", "1000", check=True)
    pid = int(pid_file.read_text())
    assert pid in json.loads(runtime("ps", "--format", "json", cid, check=True).stdout)


def test_process_file(runtime, tmp_path):
    cid, _pid = running(runtime)
    process = {"args": ["sh", "-c", "echo from-file $X; id -u"], "cwd": "/", "env": ["X=1", "PATH=/bin"],
               "user": {"uid": 65534, "gid": 65534}}
    path = tmp_path / "process.json"
    path.write_text(json.dumps(process))
    assert runtime("exec", "--process", str(path), cid, check=True).stdout.split() == ["from-file", "1", "65534"]


def test_the_containers_seccomp_profile_applies(runtime):
    def seccomp(config):
        config["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW",
                                      "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]}

    cid, _pid = running(runtime, seccomp)
    out = runtime("exec", cid, "sh", "-c", "busybox pwd 2>&1; true").stdout
    assert "Function not implemented" in out


def test_a_paused_container_refuses_exec(runtime):
    cid, _pid = running(runtime)
    runtime("pause", cid, check=True)
    proc = runtime("exec", cid, "true")
    assert proc.returncode == 255 and "paused" in proc.stderr
    runtime("resume", cid, check=True)


def test_a_tty_needs_a_console_socket(runtime):
    cid, _pid = running(runtime)
    proc = runtime("exec", "-t", cid, "true")
    assert proc.returncode == 255 and "--console-socket" in proc.stderr


def pidfd_receiver(path):
    """A listener on path that keeps the one fd it is sent; fills {"pid": ...} once it has it."""
    got = {}

    def keep(_payload, fds):
        with open(f"/proc/self/fdinfo/{fds[0]}") as f:
            got["pid"] = int(next(line.split()[1] for line in f if line.startswith("Pid:")))
        os.close(fds[0])

    return got, receive_once(path, keep, max_fds=1)


def test_pidfd_socket_gets_a_pidfd_of_the_init_and_of_an_exec(runtime, tmp_path):
    got, thread = pidfd_receiver(str(tmp_path / "create.sock"))
    cid = runtime.new_id()
    runtime("create", "--pidfd-socket", str(tmp_path / "create.sock"), "-b",
            runtime.bundle(["sleep", "1000"], rootfs=runtime.rootfs), cid, check=True)
    thread.join(10)
    assert got["pid"] == runtime.state(cid)["pid"]
    runtime("start", cid, check=True)

    got, thread = pidfd_receiver(str(tmp_path / "exec.sock"))
    pid_file = tmp_path / "exec.pid"
    runtime("exec", "-d", "--pid-file", str(pid_file), "--pidfd-socket", str(tmp_path / "exec.sock"),
            cid, "sleep", "1000", check=True)
    thread.join(10)
    assert got["pid"] == int(pid_file.read_text())


def test_cgroup_runs_the_process_in_an_existing_sub_cgroup(runtime):
    cid, pid = running(runtime)
    # What a user of --cgroup does first: make the sub-cgroup in the container's
    # (a v1 cpuset one takes processes only once it has cpus and mems).
    for directory in cgroup_dirs(pid).values():
        os.mkdir(os.path.join(directory, "probe"))
        for name in ("cpuset.cpus", "cpuset.mems"):
            # v1 only: a cgroup2 child has cpuset.cpus only where its parent enables cpuset.
            if os.path.exists(os.path.join(directory, name)) and os.path.exists(os.path.join(directory, "probe", name)):
                with open(os.path.join(directory, name)) as src, open(os.path.join(directory, "probe", name), "w") as dst:
                    dst.write(src.read())

    def cgroups_seen(*flags):
        out = runtime("exec", *flags, cid, "cat", "/proc/self/cgroup", check=True).stdout
        return {line.split(":")[1]: line.split(":")[2] for line in out.splitlines()}

    # Inside the cgroup namespace the container's cgroup is "/".
    if "" in cgroup_dirs(pid) and len(cgroup_dirs(pid)) == 1:  # pure v2: one hierarchy, named by its controllers
        assert cgroups_seen("--cgroup", "memory,pids:probe") == {"": "/probe"}
    else:
        seen = cgroups_seen("--cgroup", "memory,pids:probe", "--cgroup", "freezer:/probe")
        assert {c for c, path in seen.items() if path == "/probe"} == {"memory", "pids", "freezer"}, seen
        assert all(path == "/" for c, path in seen.items() if c not in ("memory", "pids", "freezer")), seen
    assert set(cgroups_seen("--cgroup", "probe").values()) == {"/probe"}

    # A process in a sub-cgroup is still the container's: ps, kill --all and delete reach it.
    runtime("exec", "-d", "--cgroup", "probe", cid, "sleep", "1000", check=True)
    assert len(json.loads(runtime("ps", "--format", "json", cid, check=True).stdout)) == 2
    runtime("kill", "--all", cid, "KILL", check=True)
    runtime("delete", "--force", cid, check=True)
    assert not any(os.path.exists(d) for d in cgroup_dirs_named(cid))


@pytest.mark.parametrize("flags, message", [
    (["--cgroup", "memory:nothing-here"], "--cgroup nothing-here: "),
    (["--cgroup", "../../escape"], "--cgroup ../../escape: not a sub-cgroup of the container's"),
    (["--cgroup", "no-such-controller:x"], "no cgroup for controller no-such-controller"),
    (["--cgroup", "memory:a", "--cgroup", "b"], "--cgroup b: needs a controller: prefix"),
    (["--cgroup", "memory:a", "--cgroup", "memory:b"], "controller memory given more than once"),
])
def test_a_bad_cgroup_fails_with_nothing_started(runtime, flags, message):
    cid, pid = running(runtime)
    proc = runtime("exec", *flags, cid, "true")
    assert proc.returncode == 255 and message in proc.stderr, proc.stderr
    assert json.loads(runtime("ps", "--format", "json", cid, check=True).stdout) == [pid]


def test_apparmor_needs_apparmor_on_the_host(runtime):
    from pyoci.security.apparmor import enabled

    if enabled():
        pytest.skip("this host has AppArmor")
    cid, pid = running(runtime)
    proc = runtime("exec", "--apparmor", "unconfined", cid, "true")
    assert proc.returncode == 255 and "--apparmor: AppArmor is not enabled on this host" in proc.stderr, proc.stderr
    assert json.loads(runtime("ps", "--format", "json", cid, check=True).stdout) == [pid]
