"""Faults injected for real: a runtime killed at each step of create, exec
and delete, signals while cgroups are made, a full disk, a damaged
state.json, big states and configs, malformed JSON, and packets on the
sync channel that are not its messages.

After each, what must hold is checked from the outside: `delete --force`
removes the container completely (state directory, cgroups, mounts,
processes), and the id can be used again.  The steps are pyoci's fault
points (pyoci.launch.steps); the random-instant kills and everything else also
run against another runtime (PYOCI_RUNTIME=runc), compared by exit status
and effect, not by wording.
"""
import json
import os
import pathlib
import random
import signal
import subprocess
import tempfile
import time
import uuid

import pytest

from bundle import make_rootfs
from engines import wait_for
from host_view import cgroup_trees_named, remove_cgroup_tree
from leftovers import assert_nothing_left, cgroup_dirs_named, mounts_under, processes_rooted_in

PYOCI = "PYOCI_RUNTIME" not in os.environ  # the fault points and the wording are pyoci's

# create's steps, in order (pyoci.runtime.create, pyoci.cgroups.create).
CREATE_POINTS = ("create:directory-made", "create:cleanup-recorded", "cgroups:dir-made", "create:cgroups-made",
                 "create:resources-applied", "create:cloned", "create:pid-received", "create:cgroups-joined",
                 "create:init-recorded", "create:state-written", "create:hooks-run", "create:ready-received",
                 "create:created")
EXEC_POINTS = ("exec:cloned", "exec:pid-received", "exec:cgroups-joined")
DELETE_POINTS = ("delete:processes-ended", "delete:cgroups-removed")

pyoci_only = pytest.mark.skipif(not PYOCI, reason="the fault points are pyoci's")


@pytest.fixture
def cgroups_path():
    """A nested cgroupsPath of the test's own (so create makes a parent
    too).  Afterwards, whatever a runtime under test failed to remove goes:
    the processes in that tree, which only this test's containers can be,
    then the tree."""
    top = f"pyoci-crash-{uuid.uuid4().hex[:8]}"
    yield f"/{top}/{uuid.uuid4().hex[:8]}"
    for tree in cgroup_trees_named(top):
        for pid in procs_under(tree):
            os.kill(int(pid), signal.SIGKILL)
    wait_for(lambda: all(not procs_under(tree) for tree in cgroup_trees_named(top)), 10)
    remove_cgroup_tree(top)


def procs_under(tree):
    return [pid for directory, _dirs, _files in os.walk(tree)
            for pid in open(os.path.join(directory, "cgroup.procs")).read().split()]


def with_hooks(tmp, cgroups_path):
    """A config mutation: a createRuntime and a createContainer hook (so the
    state crosses the sync channel), cgroups_path, memory and pids limits."""
    def mutate(config):
        config["hooks"] = {phase: [{"path": "/bin/sh", "args": ["sh", "-c", f"cat > {tmp}/{phase}.stdin"]}]
                           for phase in ("createRuntime", "createContainer")}
        config["linux"]["cgroupsPath"] = cgroups_path
        config["linux"]["resources"] = {"memory": {"limit": 64 << 20}, "pids": {"limit": 64}}
    return mutate


def run_env(runtime, args, fault=None, timeout=30):
    env = dict(os.environ, PYOCI_FAULT=fault) if fault else None
    return runtime(*args, env=env, timeout=timeout)


def assert_all_gone(runtime, cid, cgroups_path=None):
    """delete --force's work, checked from the outside.  A child that the
    killed create had not yet moved into its cgroups ends by itself at its
    next sync point (end-of-file on the sync socket): waited for."""
    assert not os.path.exists(os.path.join(runtime.root, cid)), os.listdir(os.path.join(runtime.root, cid))
    assert cgroup_dirs_named(cid) == []
    if cgroups_path:
        top = cgroups_path.strip("/").split("/")[0]
        assert cgroup_dirs_named(top) == [], cgroup_dirs_named(top)
    wait_for(lambda: processes_rooted_in(runtime.rootfs) == [], 10,
             lambda: f"processes left in the rootfs: {processes_rooted_in(runtime.rootfs)}")
    assert_nothing_left(runtime.root, cid, runtime.tmp, runtime.rootfs)


def reuse(runtime, cid, bundle):
    """The id works again: create, start, exec, delete."""
    runtime("create", "-b", bundle, cid, check=True)
    runtime("start", cid, check=True)
    assert runtime("exec", cid, "true").returncode == 0
    runtime("delete", "--force", cid, check=True)


# -- SIGKILL at each step -----------------------------------------------------

@pyoci_only
@pytest.mark.parametrize("point", CREATE_POINTS)
def test_create_killed_at_each_step_leaves_what_delete_force_removes(runtime, tmp_path, cgroups_path, point):
    cid = runtime.new_id()
    bundle = runtime.bundle(["sleep", "1000"], rootfs=runtime.rootfs, mutate=with_hooks(tmp_path, cgroups_path))
    proc = run_env(runtime, ["create", "-b", bundle, "--pid-file", str(tmp_path / "pid"), cid], fault=point)
    assert proc.returncode == -signal.SIGKILL, (point, "never reached", proc.returncode, proc.stderr)
    deleted = runtime("delete", "--force", cid)
    assert deleted.returncode == 0 and "Traceback" not in deleted.stderr, deleted.stderr
    assert_all_gone(runtime, cid, cgroups_path)
    reuse(runtime, cid, bundle)
    assert_all_gone(runtime, cid, cgroups_path)


@pyoci_only
@pytest.mark.parametrize("point", CREATE_POINTS)
def test_create_without_a_mount_namespace_killed_at_each_step_leaves_no_host_mount(runtime, tmp_path, cgroups_path,
                                                                                   point):
    """Its mounts are the host's: a killed create's must go with delete
    --force too (cleanup.json's host_mounts), none made after it (the
    child is ended before they are taken down)."""
    rootfs = make_rootfs(str(tmp_path / "own-rootfs"))

    def mutate(config):
        with_hooks(tmp_path, cgroups_path)(config)
        config["linux"]["namespaces"] = [n for n in config["linux"]["namespaces"] if n["type"] != "mount"]
        del config["linux"]["maskedPaths"], config["linux"]["readonlyPaths"]
        config["mounts"].append({"destination": "/mnt", "type": "tmpfs", "source": "tmpfs"})

    cid = runtime.new_id()
    bundle = runtime.bundle(["sleep", "1000"], rootfs=rootfs, mutate=mutate)
    try:
        proc = run_env(runtime, ["create", "-b", bundle, cid], fault=point)
        assert proc.returncode == -signal.SIGKILL, (point, "never reached", proc.returncode, proc.stderr)
        runtime("delete", "--force", cid, check=True)
        time.sleep(0.2)  # a child still at work would mount more by now
        assert mounts_under(rootfs) == []
        assert_all_gone(runtime, cid, cgroups_path)
    finally:
        for point in sorted(mounts_under(rootfs), key=len, reverse=True):
            subprocess.run(["umount", "-l", point], check=False)


@pyoci_only
@pytest.mark.parametrize("point", EXEC_POINTS)
def test_exec_killed_at_each_step_leaves_the_container_working(runtime, point):
    cid = runtime.new_id()
    bundle = runtime.bundle(["sleep", "1000"], rootfs=runtime.rootfs)
    runtime("run", "-d", "-b", bundle, cid, check=True)
    init = runtime.state(cid)["pid"]
    proc = run_env(runtime, ["exec", cid, "sleep", "999"], fault=point)
    assert proc.returncode == -signal.SIGKILL, (point, "never reached", proc.returncode, proc.stderr)
    # The half-made process ends by itself at its next sync point.
    wait_for(lambda: not [p for p in runtime("ps", cid, "--format", "json").stdout.strip("[]\n").split(",")
                          if p and int(p) != init], 10, lambda: runtime("ps", cid).stdout)
    assert runtime("exec", cid, "true").returncode == 0
    runtime("delete", "--force", cid, check=True)
    assert_all_gone(runtime, cid)


@pyoci_only
@pytest.mark.parametrize("point", DELETE_POINTS)
def test_delete_killed_at_each_step_can_be_finished(runtime, tmp_path, cgroups_path, point):
    cid = runtime.new_id()
    bundle = runtime.bundle(["sleep", "1000"], rootfs=runtime.rootfs, mutate=with_hooks(tmp_path, cgroups_path))
    runtime("run", "-d", "-b", bundle, cid, check=True)
    proc = run_env(runtime, ["delete", "--force", cid], fault=point)
    assert proc.returncode == -signal.SIGKILL, (point, "never reached", proc.returncode, proc.stderr)
    runtime("delete", "--force", cid, check=True)
    assert_all_gone(runtime, cid, cgroups_path)


def test_create_killed_at_random_instants(runtime, tmp_path, cgroups_path):
    """30 creates, each SIGKILLed after a seeded random 0-60 ms; then
    delete --force, and the id is reused by the next round."""
    rng = random.Random(20261205)
    bundle = runtime.bundle(["sleep", "1000"], rootfs=runtime.rootfs, mutate=with_hooks(tmp_path, cgroups_path))
    cid = runtime.new_id()
    for _ in range(30):
        create = subprocess.Popen(runtime.cmd + ["--root", runtime.root, "create", "-b", bundle, cid],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0, 0.060))
        create.kill()
        create.wait()
        deleted = runtime("delete", "--force", cid)
        assert deleted.returncode == 0, deleted.stderr
        assert_all_gone(runtime, cid, cgroups_path)
    reuse(runtime, cid, bundle)


# -- signals while cgroups are made ---------------------------------------------

@pyoci_only
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=lambda s: s.name)
def test_a_signal_while_cgroups_are_made_loses_none(runtime, tmp_path, cgroups_path, sig):
    cid = runtime.new_id()
    bundle = runtime.bundle(["sleep", "1000"], rootfs=runtime.rootfs, mutate=with_hooks(tmp_path, cgroups_path))
    proc = run_env(runtime, ["create", "-b", bundle, cid], fault=f"cgroups:dir-made@{int(sig)}")
    assert proc.returncode == (130 if sig == signal.SIGINT else 1), (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    # Undone by create itself, before it exits: no delete.
    assert_all_gone(runtime, cid, cgroups_path)


# -- a full disk ----------------------------------------------------------------

@pytest.fixture
def small_root():
    """A 256 KiB tmpfs for --root, its own mount (outside the test's tmp,
    where the teardown looks for mounts left), removed after the test."""
    path = pathlib.Path(tempfile.mkdtemp(prefix="pyoci-small-root-"))
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)
        path.rmdir()


def fill(directory, leave):
    """Fill directory's filesystem to `leave` bytes free (or less)."""
    st = os.statvfs(directory)
    free = st.f_bavail * st.f_frsize
    with open(os.path.join(directory, "filler"), "wb") as f:
        f.write(b"\0" * max(free - leave, 0))


def test_a_full_disk_fails_create_cleanly(runtime, tmp_path, small_root):
    """--root with 16 KiB left: cleanup.json fits, a state.json carrying a
    100 KB annotation does not.  create fails, exit 1, and nothing is left;
    with room again, the id is free."""
    runtime.root = str(small_root / "state")
    cid = runtime.new_id()

    def mutate(config):
        config["annotations"] = {"big": "x" * 100_000}

    bundle = runtime.bundle(["sleep", "1000"], rootfs=runtime.rootfs, mutate=mutate)
    os.makedirs(runtime.root)
    fill(small_root, 16 << 10)
    proc = runtime("create", "-b", bundle, cid)
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    if PYOCI:
        assert "no space left on device" in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    assert_all_gone(runtime, cid)
    os.unlink(small_root / "filler")
    reuse(runtime, cid, bundle)


# -- a damaged state.json --------------------------------------------------------

def test_a_damaged_state_json_is_reported_and_delete_force_cleans_up(runtime, tmp_path, cgroups_path):
    """state.json cut short, as a full disk used to leave it: every command
    says it is damaged, in one line; delete --force still ends the init and
    removes the cgroups and the directory."""
    cid = runtime.new_id()
    bundle = runtime.bundle(["sleep", "1000"], rootfs=runtime.rootfs, mutate=with_hooks(tmp_path, cgroups_path))
    runtime("run", "-d", "-b", bundle, cid, check=True)
    init = runtime.state(cid)["pid"]
    path = os.path.join(runtime.root, cid, "state.json")
    with open(path, "rb") as f:
        text = f.read()
    with open(path, "wb") as f:
        f.write(text[:len(text) // 2])
    for args in (["state", cid], ["kill", cid, "TERM"], ["delete", cid], ["exec", cid, "true"]):
        proc = runtime(*args)
        assert proc.returncode != 0 and "Traceback" not in proc.stderr, (args, proc.stderr)
        if PYOCI:
            assert proc.returncode in (1, 255) and "damaged" in proc.stderr, (args, proc.stderr)
            assert proc.stderr.count("\n") == 1 and "line 1 column" in proc.stderr, proc.stderr
    listed = runtime("list", "-q")
    assert listed.returncode == 0 and cid not in listed.stdout, listed
    assert os.path.exists(f"/proc/{init}")  # nothing above touched it
    deleted = runtime("delete", "--force", cid)
    assert deleted.returncode == 0, deleted.stderr
    wait_for(lambda: not os.path.exists(f"/proc/{init}") or open(f"/proc/{init}/stat").read().split()[2] == "Z", 10)
    assert_all_gone(runtime, cid, cgroups_path)


# -- big states and configs --------------------------------------------------------

@pytest.mark.parametrize("size", [100_000, 300_000, 50_000_000], ids=["100KB", "300KB", "50MB"])
def test_hooks_get_a_big_state_whole(runtime, tmp_path, size):
    """An annotation of size bytes: create and start run, and each hook,
    on the host and in the container, reads the whole state on stdin."""
    inside = tmp_path / "inside"
    inside.mkdir()

    def mutate(config):
        config["annotations"] = {"big": "y" * size}
        config["hooks"] = {phase: [{"path": "/bin/sh", "args": ["sh", "-c", f"cat > {tmp_path}/{phase}.stdin"]}]
                           for phase in ("prestart", "createRuntime", "createContainer", "poststart")}
        config["hooks"]["startContainer"] = [{"path": "/bin/sh", "args": ["sh", "-c", "cat > /inside/start.stdin"]}]
        config["mounts"].append({"destination": "/inside", "type": "bind", "source": str(inside), "options": ["bind"]})

    cid = runtime.new_id()
    bundle = runtime.bundle(["sleep", "1000"], rootfs=runtime.rootfs, mutate=mutate)
    runtime("create", "-b", bundle, cid, check=True, timeout=120)
    runtime("start", cid, check=True, timeout=120)
    outputs = [tmp_path / f"{phase}.stdin" for phase in ("prestart", "createRuntime", "createContainer", "poststart")]
    for path in outputs + [inside / "start.stdin"]:
        state = json.loads(path.read_text())
        assert state["id"] == cid and len(state["annotations"]["big"]) == size, path
    runtime("delete", "--force", cid, check=True, timeout=60)


# -- malformed JSON ---------------------------------------------------------------

BROKEN = {
    "trailing comma": '{"ociVersion": "1.3.0", "root": {"path": "rootfs"},}',
    "cut inside an object": '{"ociVersion": "1.3.0",\n "root": {"path": ',
    "unterminated string": '{"ociVersion": "1.3.0",\n "root": {"path": "rootfs',
}


@pytest.mark.parametrize("kind", list(BROKEN))
def test_malformed_config_json_gets_one_line_with_its_position(runtime, tmp_path, kind):
    cid = runtime.new_id()
    bundle = runtime.bundle(["true"], rootfs=runtime.rootfs)
    with open(os.path.join(bundle, "config.json"), "w") as f:
        f.write(BROKEN[kind])
    log = tmp_path / "log.json"
    proc = runtime("create", "-b", bundle, cid, global_args=("--log", str(log), "--log-format", "json"))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    if PYOCI:
        assert proc.stderr.count("\n") == 1 and "config.json" in proc.stderr and " line " in proc.stderr, proc.stderr
        records = [json.loads(line) for line in log.read_text().splitlines()]
        assert any(r["level"] == "error" and " column " in r["msg"] for r in records), records
    assert_all_gone(runtime, cid)


@pytest.mark.parametrize("kind", list(BROKEN))
def test_malformed_process_and_resources_json_get_one_line(runtime, tmp_path, kind):
    cid = runtime.new_id()
    bundle = runtime.bundle(["sleep", "1000"], rootfs=runtime.rootfs)
    runtime("run", "-d", "-b", bundle, cid, check=True)
    process = tmp_path / "process.json"
    process.write_text(BROKEN[kind])
    proc = runtime("exec", "--process", str(process), cid)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr, proc.stderr
    proc = runtime("update", "-r", "-", cid, input=BROKEN[kind].replace('"root"', '"memory"'))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    if PYOCI:
        assert proc.stderr.count("\n") == 1 and " line " in proc.stderr, proc.stderr
    assert runtime.state(cid)["status"] == "running"


# -- packets that are not the sync channel's messages ----------------------------------

def connect_to_start(runtime, cid):
    import socket

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    sock.connect(os.path.join(runtime.root, cid, "start.sock"))
    return sock


@pyoci_only
def test_a_packet_that_is_not_a_reply_stops_the_init(runtime):
    """A packet on the start socket that is not a struct pyoci_reply: the
    init says so on the connection and exits; it does not run on it."""
    cid = runtime.new_id()
    bundle = runtime.bundle(["sleep", "1000"], rootfs=runtime.rootfs)
    runtime("create", "-b", bundle, cid, check=True)
    sock = connect_to_start(runtime, cid)
    sock.send(b"\x01")  # the old one-byte ack
    reply = sock.recv(4096)
    sock.close()
    assert b"sync channel: a reply that is not a struct pyoci_reply" in reply, reply
    wait_for(lambda: runtime.state(cid)["status"] == "stopped", 10)
    runtime("delete", cid, check=True)


@pyoci_only
def test_a_state_cut_short_leaves_the_container_created(runtime):
    """A start that goes away midway through the state: the init waits for
    the next start, which runs it."""
    cid = runtime.new_id()
    bundle = runtime.bundle(["sleep", "1000"], rootfs=runtime.rootfs)
    runtime("create", "-b", bundle, cid, check=True)
    sock = connect_to_start(runtime, cid)
    sock.send((2).to_bytes(4, "little") + (1000).to_bytes(4, "little"))  # REPLY_STATE of 1000 bytes
    sock.send(b"{" * 10)
    sock.close()
    time.sleep(0.2)
    assert runtime.state(cid)["status"] == "created"
    runtime("start", cid, check=True)
    assert runtime.state(cid)["status"] == "running"
    runtime("delete", "--force", cid, check=True)


@pyoci_only
def test_a_state_packet_longer_than_announced_is_refused(runtime):
    cid = runtime.new_id()
    bundle = runtime.bundle(["sleep", "1000"], rootfs=runtime.rootfs)
    runtime("create", "-b", bundle, cid, check=True)
    sock = connect_to_start(runtime, cid)
    sock.send((2).to_bytes(4, "little") + (10).to_bytes(4, "little"))
    sock.send(b"{" * 20)
    reply = sock.recv(4096)
    sock.close()
    assert b"sync channel: a state packet longer than the state's length" in reply, reply
    wait_for(lambda: runtime.state(cid)["status"] == "stopped", 10)
    runtime("delete", cid, check=True)
