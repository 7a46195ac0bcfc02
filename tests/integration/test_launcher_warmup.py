"""The launcher's cgroup warm-up (warm_migrations in pyoci/_native/launcher.c),
seen from the host: for create and run a helper process moves itself into
the runtime's own cgroup while the runtime lives, holds no descriptor of the
caller's, and ends by itself.  (What it buys, a join that does not wait for an
RCU grace period, is a timing: bench/ measures it.)

The launcher is copied beside a stand-in python3 that only sleeps, and run by
a driver that is a child subreaper, so that the double-forked helper is
reparented to the driver, which can watch and reap it."""
import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

LAUNCHER = os.path.join(os.path.dirname(sys.executable), "pyoci")

pytestmark = pytest.mark.skipif(not os.access(LAUNCHER, os.X_OK), reason="pyoci is not installed next to this python")

DRIVER = textwrap.dedent("""
    import ctypes, json, os, subprocess, sys, time
    PR_SET_CHILD_SUBREAPER = 36
    assert ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    launcher = sys.argv[1]

    def children():
        found = []
        for pid in os.listdir("/proc"):
            try:
                with open(f"/proc/{pid}/stat") as f:
                    ppid = int(f.read().rpartition(")")[2].split()[1])
            except (OSError, ValueError):
                continue
            if ppid == os.getpid():
                found.append(int(pid))
        return found

    def describe(pid):
        fds = {}
        for fd in os.listdir(f"/proc/{pid}/fd"):
            fds[fd] = os.readlink(f"/proc/{pid}/fd/{fd}")
        with open(f"/proc/{pid}/cgroup") as f:
            return {"fds": fds, "cgroup": f.read()}

    runtime = subprocess.Popen([launcher] + sys.argv[2:])
    time.sleep(0.05)
    helpers = [pid for pid in children() if pid != runtime.pid]
    seen = {pid: describe(pid) for pid in helpers}
    ended, runtime_ended = {}, None
    while runtime_ended is None or len(ended) < len(helpers):
        now = time.monotonic()
        if runtime_ended is None and runtime.poll() is not None:
            runtime_ended = now
        for pid in set(helpers) - set(ended):
            if os.waitpid(pid, os.WNOHANG)[0]:
                ended[pid] = now
        time.sleep(0.002)
    ended = {pid: t - runtime_ended for pid, t in ended.items()}
    with open("/proc/self/cgroup") as f:
        mine = f.read()
    print(json.dumps({"helpers": seen, "ended_after_runtime": ended, "mine": mine}))
""")


def drive(tmp_path, seconds, *args):
    """Run the launcher copy with args; its python3 sleeps `seconds`.  The
    helpers' end is in seconds after the runtime's (negative: before it)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shutil.copy(LAUNCHER, bin_dir / "pyoci")
    (bin_dir / "python3").write_text(f"#!/bin/sh\nsleep {seconds}\n")
    (bin_dir / "python3").chmod(0o755)
    result = subprocess.run([sys.executable, "-c", DRIVER, str(bin_dir / "pyoci"), *args],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("command", ["create", "run"])
def test_create_and_run_start_a_helper_in_the_runtimes_own_cgroup(tmp_path, command):
    seen = drive(tmp_path, 0.3, "--root", str(tmp_path / "state"), command, "an-id")
    assert len(seen["helpers"]) == 1
    helper = next(iter(seen["helpers"].values()))
    assert helper["cgroup"] == seen["mine"]
    # Nothing of the caller's: only the pidfd by which it watches the runtime.
    assert list(helper["fds"].values()) == ["anon_inode:[pidfd]"]


def test_the_helper_ends_with_the_runtime(tmp_path):
    seen = drive(tmp_path, 0.1, "create", "an-id")
    (after,) = seen["ended_after_runtime"].values()
    assert 0 <= after < 0.1


def test_the_helper_ends_within_its_budget_while_the_runtime_lives_on(tmp_path):
    seen = drive(tmp_path, 2, "run", "an-id")
    (after,) = seen["ended_after_runtime"].values()
    assert after < -0.5  # its budget is 0.2 s; the runtime lived 2 s


def test_other_commands_start_no_helper(tmp_path):
    seen = drive(tmp_path, 0.2, "state", "an-id")
    assert seen["helpers"] == {}
