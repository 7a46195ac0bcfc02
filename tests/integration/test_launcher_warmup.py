"""The launcher's cgroup warm-up (warm_migrations in pyoci/_native/launcher.c,
ended by pyoci/launch/warmup.py), seen from the host: for create, run and exec a child of
the runtime moves itself into the runtime's own cgroup, holds no descriptor
of the caller's, and never outlives the command.  (What it buys, a join that
does not wait for an RCU grace period, is a timing: bench/ measures it.)

A driver that is a child subreaper runs the command, so that whatever the
command leaves behind is reparented to the driver and shows as its child.
The launcher's own behaviour is seen with a copy of it beside a stand-in
python3 that only sleeps (and so never ends the helper itself)."""
import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from host_view import pure_v2

LAUNCHER = os.path.join(os.path.dirname(sys.executable), "pyoci")
# On pure cgroup v2 create and exec clone into the cgroup and nothing
# migrates: the launcher starts no helper there.
PURE_V2 = pure_v2()
needs_helper = pytest.mark.skipif(PURE_V2, reason="pure cgroup v2: the launcher starts no helper")

pytestmark = pytest.mark.skipif(not os.access(LAUNCHER, os.X_OK), reason="pyoci is not installed next to this python")

DRIVER = textwrap.dedent("""
    import ctypes, json, os, subprocess, sys, tempfile, time
    PR_SET_CHILD_SUBREAPER = 36
    assert ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0

    def stat(pid):
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
        return fields[0], int(fields[1])  # state, ppid

    def children(parent):
        found = []
        for pid in os.listdir("/proc"):
            try:
                if pid.isdigit() and stat(pid)[1] == parent:
                    found.append(int(pid))
            except OSError:
                continue
        return found

    def describe(pid):
        fds = sorted(os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd"))
        with open(f"/proc/{pid}/cgroup") as f:
            return {"pid": pid, "fds": fds, "cgroup": f.read()}

    started = time.monotonic()
    # Files, not pipes: a container's init keeps create's stdio.
    errors = tempfile.TemporaryFile()
    runtime = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors)
    named, helpers = [], []
    while not (helpers and named) and runtime.poll() is None and time.monotonic() - started < 5:
        time.sleep(0.01)
        try:
            with open(f"/proc/{runtime.pid}/environ", "rb") as f:
                named = [v.partition(b"=")[2].decode() for v in f.read().split(b"\\0") if v.startswith(b"PYOCI_WARMUP_PID=")]
            helpers = [describe(pid) for pid in children(runtime.pid)]
        except OSError:  # a real command may be over already
            named, helpers = [], []
    helper_ended = None
    while runtime.poll() is None:
        try:
            gone = stat(helpers[0]["pid"])[0] == "Z" if helpers else False
        except OSError:  # reaped: a real runtime ends its helper itself
            gone = True
        if gone and helper_ended is None:
            helper_ended = time.monotonic() - started
        time.sleep(0.005)
    runtime_ended = time.monotonic() - started
    time.sleep(0.1)  # the helper watches for the runtime's end every 2 ms
    left = {pid: stat(pid)[0] for pid in children(os.getpid())}
    for pid in left:
        if left[pid] == "Z":
            os.waitpid(pid, 0)
    with open("/proc/self/cgroup") as f:
        mine = f.read()
    errors.seek(0)
    print(json.dumps({"stderr": errors.read().decode(), "named": named, "helpers": helpers, "helper_ended": helper_ended,
                      "runtime_ended": runtime_ended, "left": left, "mine": mine}))
""")


def drive(*argv):
    result = subprocess.run([sys.executable, "-c", DRIVER, *argv], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def launcher_copy(tmp_path, seconds):
    """A copy of the launcher whose python3 sleeps `seconds`, as its only process."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shutil.copy(LAUNCHER, bin_dir / "pyoci")
    (bin_dir / "python3").write_text(f"#!/bin/sh\nexec sleep {seconds}\n")
    (bin_dir / "python3").chmod(0o755)
    return str(bin_dir / "pyoci")


@needs_helper
@pytest.mark.parametrize("command", ["create", "run", "exec"])
def test_create_run_and_exec_start_a_helper_in_the_runtimes_own_cgroup(tmp_path, command):
    seen = drive(launcher_copy(tmp_path, 0.3), "--root", str(tmp_path / "state"), command, "an-id")
    (helper,) = seen["helpers"]
    assert seen["named"] == [str(helper["pid"])]
    assert helper["cgroup"] == seen["mine"]
    # Nothing of the caller's: the pidfd by which it watches the runtime, and
    # the cgroup.procs it may be writing at that moment.
    assert "anon_inode:[pidfd]" in helper["fds"]
    assert all(fd == "anon_inode:[pidfd]" or fd.endswith("/cgroup.procs") for fd in helper["fds"]), helper["fds"]


@needs_helper
def test_a_helper_left_running_ends_with_the_runtime(tmp_path):
    # A runtime that ends well within the helper's 200 ms budget, even where
    # starting a process is slow (the v2 lane's emulated guest).
    seen = drive(launcher_copy(tmp_path, 0.02), "create", "an-id")
    assert seen["helper_ended"] is None
    assert list(seen["left"].values()) == ["Z"]  # ended, reparented to the driver, reaped there


@needs_helper
def test_a_helper_ends_within_its_budget(tmp_path):
    seen = drive(launcher_copy(tmp_path, 2), "run", "an-id")
    assert seen["helper_ended"] < 1.0 < seen["runtime_ended"]


@pytest.mark.skipif(not PURE_V2, reason="needs pure cgroup v2")
@pytest.mark.parametrize("command", ["create", "run", "exec"])
def test_no_helper_on_pure_v2(tmp_path, command):
    seen = drive(launcher_copy(tmp_path, 0.3), "--root", str(tmp_path / "state"), command, "an-id")
    assert seen["helpers"] == [] and seen["named"] == []


def test_other_commands_start_no_helper(tmp_path):
    seen = drive(launcher_copy(tmp_path, 0.2), "state", "an-id")
    assert seen["helpers"] == [] and seen["named"] == []


def test_create_ends_its_helper_and_leaves_only_the_init(runtime):
    cid = runtime.new_id()
    bundle = runtime.bundle(["sleep", "60"], rootfs=runtime.rootfs)
    seen = drive(*runtime.cmd, "--root", runtime.root, "create", "-b", bundle, cid)
    assert not seen["stderr"]
    assert [int(pid) for pid in seen["left"]] == [runtime.state(cid)["pid"]]


def test_a_failed_create_ends_its_helper(runtime, tmp_path):
    seen = drive(*runtime.cmd, "--root", runtime.root, "create", "-b", str(tmp_path / "no bundle"), runtime.new_id())
    assert seen["left"] == {}


def test_a_stray_variable_names_nothing_to_end(runtime):
    """PYOCI_WARMUP_PID from the caller's environment is not pyoci's helper:
    a process it names, not a child of the command, is left alone."""
    bystander = subprocess.Popen(["sleep", "60"])
    try:
        env = dict(os.environ, PYOCI_WARMUP_PID=str(bystander.pid))
        runtime("state", "no-such-container", env=env)
        runtime("list", env=env)
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()
