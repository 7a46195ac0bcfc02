"""What a hostile container, config author or local user supplies must not
steer the runtime: each test performs the attack from where that attacker
stands (a program in the container, a config.json, the caller's
environment, a directory another user may write) and checks from the host
that it did nothing.

Run them against another runtime with PYOCI_RUNTIME=runc (see conftest).
"""
import json
import os
import shutil
import signal
import struct
import subprocess
import tempfile
import time
import uuid

import pytest

from bundle import make_rootfs
from captured import run_captured
from host_view import cgroup_dirs, hierarchy_roots, pure_v2, remove_cgroup_tree
from test_isolation import created

MSG_PID = 2  # enum pyoci_msg_type in pyoci/_native/shim.h
MSG_ERROR = 6


def forged_message(kind, pid=0, label=b""):
    """struct pyoci_msg as the init sends it: int type, step, err, status, pid; char label[500]."""
    return struct.pack("=5i500s", kind, -1, 1, 0, pid, label)


@pytest.fixture
def victim():
    """A host process that belongs to nobody's container; it must outlive every test."""
    proc = subprocess.Popen(["sleep", "1000"])
    yield proc
    proc.kill()
    proc.wait()


def in_rootfs(runtime, name, data):
    rootfs = make_rootfs(os.path.join(runtime.tmp, "rootfs-" + uuid.uuid4().hex[:6]))
    with open(os.path.join(rootfs, name), "wb") as f:
        f.write(data)
    return rootfs


# Another runtime under test (PYOCI_RUNTIME=runc) refuses in its own words:
# the exit status is compared, the words only for pyoci.
OWN_WORDS = "PYOCI_RUNTIME" not in os.environ


def assert_refused(proc, *words, status=1):
    assert proc.returncode == status, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    for word in words if OWN_WORDS else ():
        assert word in proc.stderr, proc.stderr


# -- 1. the sync socket is the runtime's, never the container's ----------------

# Writes the forged message to every socket among fds 3-10 it was handed.
FORGE = ("for fd in 3 4 5 6 7 8 9 10; do case $(readlink /proc/self/fd/$fd) in socket:*) "
         "eval \"cat /forged >&$fd\";; esac; done; sleep 1")


def test_exec_preserve_fds_past_what_the_caller_holds_is_refused(runtime, victim):
    """exec --preserve-fds 8 from a caller with no fd past stdio: the kept
    range would cover the runtime's own sync socket, and a program holding it
    could report a host process as its own (the runtime would move it into
    the container's cgroups, and delete -f kill it).  runc: "unable to stat
    preserved-fd"."""
    rootfs = in_rootfs(runtime, "forged", forged_message(MSG_PID, pid=victim.pid))
    cid, _pid = created(runtime, mutate=lambda c: c["root"].update(path=rootfs))
    runtime("start", cid, check=True)
    before = cgroup_dirs(victim.pid)
    proc = runtime("exec", "--preserve-fds", "8", cid, "sh", "-c", FORGE)
    assert_refused(proc, "--preserve-fds", status=255)
    assert cgroup_dirs(victim.pid) == before
    runtime("delete", "-f", cid, check=True)
    assert victim.poll() is None, "delete -f killed a host process the container named"


def test_create_preserve_fds_past_what_the_caller_holds_is_refused(runtime):
    cid = runtime.new_id()
    bundle = runtime.bundle(["true"], rootfs=runtime.rootfs)
    assert_refused(runtime("create", "--preserve-fds", "3", "-b", bundle, cid), "--preserve-fds", "fd 3")
    assert runtime("state", cid).returncode != 0


def test_a_forged_error_is_not_the_runtimes(runtime):
    """The same socket, used to print a forged error as the runtime's own."""
    rootfs = in_rootfs(runtime, "forged", forged_message(MSG_ERROR, label=b"FORGED BY THE CONTAINER"))
    cid, _pid = created(runtime, mutate=lambda c: c["root"].update(path=rootfs))
    runtime("start", cid, check=True)
    proc = runtime("exec", "--preserve-fds", "8", cid, "sh", "-c", FORGE)
    assert "FORGED" not in proc.stderr + proc.stdout


def test_listen_fds_needs_listen_pid_naming_the_runtime(runtime, victim):
    """LISTEN_FDS=1 with LISTEN_PID naming another process (a stale pair
    inherited from a service): the fds are not the runtime's to pass on.
    Taken anyway, fd 3 would be one of the runtime's own (the locked state
    directory) and start and delete would wait on that lock for ever."""
    cid = runtime.new_id()
    bundle = runtime.bundle(["sh", "-c", "ls /proc/self/fd/3 && echo LEAKED; echo LISTEN_FDS=$LISTEN_FDS"],
                            rootfs=runtime.rootfs)
    env = dict(os.environ, LISTEN_FDS="1", LISTEN_PID=str(victim.pid))
    runtime("create", "-b", bundle, cid, env=env, check=True)
    start = runtime("start", cid, timeout=15)
    assert start.returncode == 0, start.stderr
    assert runtime("delete", "-f", cid, timeout=15).returncode == 0


# -- 3. cgroupsPath stays in the cgroup filesystem -----------------------------

def listing(top):
    return sorted((d, tuple(sorted(files)), tuple(open(os.path.join(d, f)).read() for f in sorted(files)))
                  for d, _dirs, files in os.walk(top))


@pytest.fixture
def host_dir():
    """A host directory to aim at, with what a v1 cpuset cgroup would have
    (so that a runtime that takes it for one gets as far as writing in it)."""
    path = tempfile.mkdtemp(prefix="pyoci-cgroup-target-")
    os.mkdir(os.path.join(path, "cg"))
    for name in ("cpuset.cpus", "cpuset.mems"):
        with open(os.path.join(path, "cg", name), "w") as f:
            f.write("0\n")
    yield path
    shutil.rmtree(path)


def test_cgroups_path_cannot_climb_out_of_the_cgroup_filesystem(runtime, host_dir):
    """`/../../..` up from each hierarchy's mount point: a root file write (a
    directory, cgroup.procs and every unified key) where the config says."""
    escape = "/.." * 12 + host_dir + "/cg"

    def aim(config):
        config["linux"]["cgroupsPath"] = escape
        if pure_v2():
            config["linux"].setdefault("resources", {})["unified"] = {"pids.max": "7"}

    before = listing(host_dir)
    cid = runtime.new_id()
    proc = runtime("run", "-b", runtime.bundle(["true"], rootfs=runtime.rootfs, mutate=aim), cid)
    assert listing(host_dir) == before, proc.stderr
    # Confined, the cgroup is that path under each hierarchy's root, gone with the container.
    assert not any(os.path.exists(os.path.join(root, host_dir.lstrip("/"), "cg")) for root in hierarchy_roots())
    remove_cgroup_tree(host_dir)


@pytest.mark.parametrize("path", ["/", "/..", "/a/../", "//"])
def test_cgroups_path_naming_a_hierarchy_root_is_refused(runtime, path, victim):
    """Taken as the container's cgroup, the root would make delete, or
    create's own undo after a failed step, kill every process on the host.
    So the attack is first tried with --dry-run, which resolves the path and
    makes nothing: a runtime that accepts it there is not given the real one."""
    cid = runtime.new_id()
    bundle = runtime.bundle(["sleep", "1000"], rootfs=runtime.rootfs,
                            mutate=lambda c: c["linux"].update(cgroupsPath=path))
    dry = runtime("create", "--dry-run", "-b", bundle, cid)
    if dry.returncode != 0 and "dry-run" in dry.stderr:
        pytest.skip("no --dry-run to try it without risking every process on this machine")
    assert_refused(dry, "linux.cgroupsPath")
    assert_refused(runtime("create", "-b", bundle, cid), "linux.cgroupsPath")
    assert victim.poll() is None


def test_systemd_cgroups_path_parts_cannot_climb(runtime, host_dir):
    cid = runtime.new_id()
    escape = f"system.slice:..:{'/..' * 12}{host_dir}/cg"
    bundle = runtime.bundle(["true"], rootfs=runtime.rootfs, mutate=lambda c: c["linux"].update(cgroupsPath=escape))
    proc = runtime("run", "-b", bundle, cid, global_args=("--systemd-cgroup",))
    assert_refused(proc, "linux.cgroupsPath")
    assert os.listdir(host_dir) == ["cg"]


@pytest.mark.skipif(not pure_v2(), reason="linux.resources.unified needs a pure cgroup v2 host (the v2 lane)")
@pytest.mark.parametrize("key", ["cgroup.kill", "cgroup.freeze", "cgroup.procs", "cgroup.type", "no-such.file",
                                 "../cgroup.procs", "memory.max/x"])
def test_unified_keys_are_controller_files_only(runtime, key):
    cid = runtime.new_id()
    bundle = runtime.bundle(["true"], rootfs=runtime.rootfs,
                            mutate=lambda c: c["linux"].setdefault("resources", {}).update(unified={key: "1"}))
    assert_refused(runtime("create", "-b", bundle, cid), f"linux.resources.unified.{key}")


# -- 4. a cgroup that holds other processes ------------------------------------

@pytest.fixture
def populated_cgroup(victim):
    """A cgroup of the test's own, in every hierarchy, with the victim in it."""
    relative = f"/pyoci-shared-{uuid.uuid4().hex[:8]}"
    try:
        for root in hierarchy_roots():
            directory = os.path.join(root, relative.lstrip("/"))
            os.mkdir(directory)
            for name in ("cpuset.cpus", "cpuset.mems"):  # a v1 cpuset cgroup starts empty (v2's root has none)
                if os.path.exists(os.path.join(root, name)):
                    with open(os.path.join(root, name)) as src, open(os.path.join(directory, name), "w") as dst:
                        dst.write(src.read())
            with open(os.path.join(directory, "cgroup.procs"), "w") as f:
                f.write(str(victim.pid))
        yield relative
    finally:
        victim.kill()
        victim.wait()
        remove_cgroup_tree(relative)


@pytest.mark.parametrize("how", [("kill", "delete"), ("delete -f",), ("kill --all", "delete")])
def test_a_shared_cgroup_is_not_taken_over(runtime, populated_cgroup, victim, how):
    """create warns (as runc does); delete and kill --all end the container's
    processes and spare the others."""
    cid = runtime.new_id()
    bundle = runtime.bundle(["sleep", "1000"], rootfs=runtime.rootfs,
                            mutate=lambda c: c["linux"].update(cgroupsPath=populated_cgroup))
    proc = runtime("create", "-b", bundle, cid)
    assert proc.returncode == 0, proc.stderr
    assert "not empty" in proc.stderr, proc.stderr  # runc's words too
    runtime("start", cid, check=True)
    init = runtime.state(cid)["pid"]
    assert victim.pid not in json.loads(runtime("ps", "--format", "json", cid, check=True).stdout)
    for step in how:
        if step == "kill":
            runtime("kill", cid, "KILL", check=True)
        elif step == "kill --all":
            runtime("kill", "--all", cid, "KILL", check=True)
        elif step == "delete":
            deadline = time.monotonic() + 10
            while runtime.state(cid)["status"] != "stopped" and time.monotonic() < deadline:
                time.sleep(0.02)
            runtime("delete", cid, check=True)
        else:
            runtime("delete", "-f", cid, check=True)
    assert not os.path.exists(f"/proc/{init}/stat") or open(f"/proc/{init}/stat").read().split()[2] == "Z"
    assert victim.poll() is None, "the runtime killed a process that was not the container's"


def test_pause_does_not_freeze_a_shared_cgroup(runtime, populated_cgroup, victim):
    """A freezer takes the whole cgroup: pausing the container would stop the victim too."""
    cid = runtime.new_id()
    bundle = runtime.bundle(["sleep", "1000"], rootfs=runtime.rootfs,
                            mutate=lambda c: c["linux"].update(cgroupsPath=populated_cgroup))
    runtime("run", "-d", "-b", bundle, cid, check=True)
    try:
        assert_refused(runtime("pause", cid), "not the container's")
        assert runtime.state(cid)["status"] == "running"
        assert open(f"/proc/{victim.pid}/stat").read().split()[2] in ("S", "R")
    finally:
        runtime("delete", "-f", cid)  # before the fixture removes the cgroup it is in


# -- 5. files written where another user may plant links ------------------------

@pytest.fixture
def planted(tmp_path):
    """A directory owned by an unprivileged user, who has planted symlinks at
    every temporary name the next few hundred pids would use, pointing at a
    root-owned file."""
    target = tmp_path / "root-owned"
    target.write_text("precious\n")
    shared = tempfile.mkdtemp(prefix="pyoci-shared-dir-")
    os.chown(shared, 65534, 65534)
    with open("/proc/sys/kernel/ns_last_pid") as f:
        last = int(f.read())
    for pid in range(last + 1, last + 400):
        link = os.path.join(shared, f"pid.{pid}.tmp")
        os.symlink(target, link)
        os.lchown(link, 65534, 65534)
    yield shared, target
    shutil.rmtree(shared)


def test_pid_file_does_not_follow_planted_links(runtime, planted):
    shared, target = planted
    cid = runtime.new_id()
    bundle = runtime.bundle(["sleep", "1000"], rootfs=runtime.rootfs)
    runtime("create", "--pid-file", os.path.join(shared, "pid"), "-b", bundle, cid, check=True)
    assert target.read_text() == "precious\n"
    with open(os.path.join(shared, "pid")) as f:
        assert int(f.read()) == runtime.state(cid)["pid"]
    assert not os.path.islink(os.path.join(shared, "pid"))


def test_exec_pid_file_does_not_follow_planted_links(runtime, planted):
    shared, target = planted
    cid, _pid = created(runtime)
    runtime("exec", "--pid-file", os.path.join(shared, "pid"), cid, "true", check=True)
    assert target.read_text() == "precious\n"


def test_a_pid_file_that_is_a_planted_link_is_replaced_not_followed(runtime, planted):
    shared, target = planted
    os.symlink(target, os.path.join(shared, "pid"))
    cid = runtime.new_id()
    runtime("create", "--pid-file", os.path.join(shared, "pid"), "-b",
            runtime.bundle(["sleep", "1000"], rootfs=runtime.rootfs), cid, check=True)
    assert target.read_text() == "precious\n"


def test_spec_does_not_write_through_a_planted_link(runtime, tmp_path):
    """A dangling config.json link passed the old exists() check, and spec
    wrote the config where it pointed."""
    (tmp_path / "bundle").mkdir()
    (tmp_path / "bundle" / "config.json").symlink_to(tmp_path / "elsewhere")
    assert_refused(runtime("spec", "-b", str(tmp_path / "bundle")), "exists")
    assert not (tmp_path / "elsewhere").exists()


# -- 6. container ids ----------------------------------------------------------

@pytest.mark.parametrize("bad", ["a\nb", "a\tb", "a b", "a:b", "caf\u00e9", "a/b", ".", "..", "a\\b"])
def test_container_ids_follow_runcs_rule(runtime, bad):
    """runc accepts ^[\\w+\\-.]+$ (ASCII word characters): an id with a
    newline forged extra lines in `list -q` and in the text --log."""
    bundle = runtime.bundle(["true"], rootfs=runtime.rootfs)
    assert_refused(runtime("create", "-b", bundle, bad), "container id")
    assert runtime("list", "-q").stdout == ""
    assert not os.path.exists(runtime.root) or os.listdir(runtime.root) == []


def test_ids_runc_accepts_are_accepted(runtime):
    cid = runtime.new_id("a+b.c_D")
    runtime("run", "-b", runtime.bundle(["true"], rootfs=runtime.rootfs), cid, check=True)


# -- 7. exec --process ---------------------------------------------------------

ROOT = {"uid": 0, "gid": 0}


@pytest.mark.parametrize("process, field", [
    ({"args": ["true"], "cwd": "/", "user": {"uid": "0", "gid": 0}}, "process.user.uid"),
    ({"args": ["echo", 1], "cwd": "/", "user": ROOT}, "process.args[1]"),
    ({"args": ["true"], "cwd": "/", "env": [7], "user": ROOT}, "process.env[0]"),
    ({"args": ["true"], "user": ROOT}, "'cwd' is a required property"),
    ({"args": ["true"], "cwd": "relative", "user": ROOT}, "process.cwd"),
    ({"args": ["true"], "cwd": "/"}, "'user' is a required property"),
    ({"args": ["true"], "cwd": "/", "env": ["NOEQUALS"], "user": ROOT}, "process.env[0]"),
    ({"args": [], "cwd": "/", "user": ROOT}, "process.args"),
    ({"args": ["true"], "cwd": "/", "user": ROOT, "capabilities": {"bounding": ["CAP_NO_SUCH"]}},
     "process.capabilities.bounding: unknown capability 'CAP_NO_SUCH'"),  # create's own check
    ([1, 2], "process"),
])
def test_exec_process_file_is_validated_like_config_json(runtime, tmp_path, process, field):
    cid, _pid = created(runtime)
    path = tmp_path / "process.json"
    path.write_text(json.dumps(process))
    proc = runtime("exec", "--process", str(path), cid)
    assert_refused(proc, field, status=255)
    assert json.loads(runtime("ps", "--format", "json", cid, check=True).stdout) == [runtime.state(cid)["pid"]]


def test_exec_process_file_that_is_valid_runs(runtime, tmp_path):
    cid, _pid = created(runtime)
    path = tmp_path / "process.json"
    path.write_text(json.dumps({"args": ["sh", "-c", "echo $A; pwd"], "cwd": "/tmp", "env": ["A=b", "PATH=/bin"],
                                "user": {"uid": 0, "gid": 0}}))
    assert runtime("exec", "--process", str(path), cid, check=True).stdout.split() == ["b", "/tmp"]

