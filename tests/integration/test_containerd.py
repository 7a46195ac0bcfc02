"""containerd end to end, with pyoci as the runc v2 shim's runtime binary
and runc beside it.

containerd 1.6 and `ctr` drive the runtime as they do in production,
through containerd-shim-runc-v2 (`ctr run --runc-binary`): `run` with --rm,
-d and -t, `task exec` (also with a tty), `task ps`, `pause`/`resume`, `kill`
with the default signal and SIGKILL, `metrics`, `task delete` (also --force
of a paused task), `container rm`, a run whose command does not exist, and
`container checkpoint`/`restore` where a working CRIU is at hand.
Every test runs once per runtime (test ids end in [pyoci] or [runc]);
results are checked from the host (/proc, cgroupfs) and from inside the
containers.

The daemon is the module's own: its root, state, gRPC socket and config
are under a temporary directory, the CRI plugin and the snapshotters this
host cannot use are disabled, and ctr works in a namespace of its own.  The
runtime's state goes to a --runc-root under that directory (not
/run/containerd/runc), ctr's FIFOs too, and each container gets the cgroup
/<namespace>/<id>.  The image is busybox-static packed as an OCI archive
here and `ctr image import`ed: no registry, no network.  After each test its
containers are deleted and must leave no task, state directory, cgroup,
mount or shim; at the end the daemon is stopped and everything it made is
removed.
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import uuid

import pytest

from captured import under_a_terminal
from engines import RUNTIME_PARAMS, wait_for
from host_view import (cgroup_dir, cgroup_dirs, cgroup_trees_named, cgroup_value, remove_cgroup_tree,
                  status_fields)
from leftovers import mounts_under
from oci_image import write_oci_archive

IMAGE = "localhost/pyoci-e2e/busybox:latest"
CONFIG = """\
version = 2
root = "{base}/root"
state = "{base}/state"
# cri needs CNI and a pause image; opt would install into /opt/containerd;
# the others are snapshotters that only log why they cannot work here.
disabled_plugins = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.internal.v1.opt",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
]

[grpc]
  address = "{base}/containerd.sock"
"""
# Where the shims put their sockets whatever the config says, and where
# `ctr containers restore` (which takes no --fifo-dir) makes its FIFOs;
# removed at the end if this module was the one to create them.
CONTAINERD_RUN_DIRS = ("/run/containerd", "/run/containerd/s", "/run/containerd/fifo")
TERM_CAUGHT = 1 << (signal.SIGTERM - 1)

pytestmark = pytest.mark.skipif(not (shutil.which("containerd") and shutil.which("ctr")),
                                reason="containerd/ctr is not installed")


class Containerd:
    """A containerd of the module's own, and ctr pointed at it."""

    def __init__(self, base):
        self.base = base
        self.address = os.path.join(base, "containerd.sock")
        self.namespace = f"pyoci-e2e-{uuid.uuid4().hex[:10]}"
        self.cgroup_parent = f"/{self.namespace}"
        self.runtime_root = os.path.join(base, "runtime")
        self.fifo_dir = os.path.join(base, "fifo")
        self.log = os.path.join(base, "containerd.log")
        self.process = None

    def start(self):
        config = os.path.join(self.base, "config.toml")
        with open(config, "w") as f:
            f.write(CONFIG.format(base=self.base))
        with open(self.log, "w") as log:
            # A session of its own: a ^C to pytest must not stop it before the teardown has run.
            self.process = subprocess.Popen(["containerd", "--config", config], stdin=subprocess.DEVNULL,
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                            env=with_criu_on_path())
        wait_for(lambda: os.path.exists(self.address) or self.process.poll() is not None)
        assert self.process.poll() is None, f"containerd exited: {open(self.log).read()}"

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def ctr_args(self, *args):
        return ["ctr", "--address", self.address, "--namespace", self.namespace, *args]

    def __call__(self, *args, check=True, timeout=60):
        proc = subprocess.run(self.ctr_args(*args), stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"ctr {' '.join(args)}: exit {proc.returncode}: {proc.stderr}")
        return proc

    def remove_container(self, cid):
        # Resumed first: a runtime that left a killed task frozen would hang
        # `delete --force` (test_task_delete_force_ends_a_paused_task).
        self("task", "resume", cid, check=False)
        self("task", "delete", "--force", cid, check=False)
        self("containers", "rm", cid, check=False)

    def live_shims(self, cid=""):
        """Pids of this daemon's shims (of cid's, if given) that have not
        exited; an exited one waits, as a zombie, for pid 1 to reap it."""
        wanted = ["-address", self.address] + (["-id", cid] if cid else [])
        found = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/cmdline") as f:
                    argv = f.read().split("\0")
            except OSError:
                continue
            if "containerd-shim" in argv[0] and all(w in argv for w in wanted):
                found.append(int(pid))
        return found

    def processes_in_cgroups(self):
        pids = set()
        for top in cgroup_trees_named(self.cgroup_parent):
            for directory, _dirs, _files in os.walk(top):
                with open(os.path.join(directory, "cgroup.procs")) as f:
                    pids.update(int(pid) for pid in f.read().split())
        return sorted(pids)


@pytest.fixture(scope="module")
def containerd(rootfs):
    created_dirs = [d for d in CONTAINERD_RUN_DIRS if not os.path.exists(d)]
    base = tempfile.mkdtemp(prefix="pyoci-containerd-")
    daemon = Containerd(base)
    try:
        daemon.start()
        archive = write_oci_archive(os.path.join(base, "busybox.tar"), rootfs, IMAGE)
        daemon("image", "import", archive)
        yield daemon
    finally:
        # Anything left now escaped its test's cleanup: note it, then remove it,
        # through containerd while it runs, by pid once it has stopped.
        escaped = daemon("containers", "ls", "-q", check=False).stdout.split() if daemon.process else []
        for cid in escaped:
            daemon.remove_container(cid)
        if daemon.process:
            daemon.stop()
        stray = daemon.live_shims() + daemon.processes_in_cgroups()
        for pid in stray:
            os.kill(pid, signal.SIGKILL)
        leftover_mounts = mounts_under(base)
        for mountpoint in reversed(leftover_mounts):
            subprocess.run(["umount", "-l", mountpoint], check=False)
        wait_for(lambda: daemon.processes_in_cgroups() == [])
        remove_cgroup_tree(daemon.cgroup_parent)
        shutil.rmtree(base)
        for directory in reversed(created_dirs):
            if os.path.isdir(directory) and not os.listdir(directory):
                os.rmdir(directory)
        assert escaped == [], f"containers left in containerd: {escaped}"
        assert stray == [], f"shims or container processes left running: {stray}"
        assert leftover_mounts == [], f"mounts left under {base}"
        assert not os.path.exists(f"/run/containerd/runc/{daemon.namespace}"), "runtime state in the default root"


class Containers:
    """ctr runs with one runtime binary; the test's containers are removed afterwards."""

    def __init__(self, daemon, binary):
        self.daemon = daemon
        self.binary = binary
        self.ids = []

    def __call__(self, *args, **kwargs):
        return self.daemon(*args, **kwargs)

    def new_id(self):
        self.ids.append(str(uuid.uuid4()))
        return self.ids[-1]

    def cgroup(self, cid):
        return f"{self.daemon.cgroup_parent}/{cid}"

    def run_args(self, cid, *command, options=()):
        return self.daemon.ctr_args(
            "run", "--runc-binary", self.binary, "--runc-root", self.daemon.runtime_root,
            "--fifo-dir", self.daemon.fifo_dir, "--cgroup", self.cgroup(cid), *options, IMAGE, cid, *command)

    def run(self, *command, options=(), check=True):
        """ctr run of command in a new container; returns (id, completed process)."""
        cid = self.new_id()
        proc = subprocess.run(self.run_args(cid, *command, options=options), stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=60)
        if check and proc.returncode != 0:
            raise AssertionError(f"ctr run {command}: exit {proc.returncode}: {proc.stderr}")
        return cid, proc

    def running(self, *command):
        """A detached task running command (default: sleep); returns (id, host pid)."""
        cid, _proc = self.run(*(command or ("sleep", "1000")), options=("-d",))
        return cid, self.tasks()[cid][0]

    def tasks(self):
        """{id: (pid, status)} from `ctr task ls`."""
        rows = [line.split() for line in self("task", "ls").stdout.splitlines()[1:]]
        return {cid: (int(pid), status) for cid, pid, status in rows}

    def leftovers(self, cid):
        """What is left of container cid, as a list of descriptions."""
        bundle = os.path.join(self.daemon.base, "state", "io.containerd.runtime.v2.task", self.daemon.namespace, cid)
        state_dir = os.path.join(self.daemon.runtime_root, self.daemon.namespace, cid)
        found = []
        if cid in self.tasks():
            found.append("task")
        if cid in self("containers", "ls", "-q").stdout.split():
            found.append("container")
        if os.path.exists(state_dir):
            found.append(f"runtime state {state_dir}")
        found += [f"cgroup in {h}" for h in cgroup_trees_named(self.cgroup(cid))]
        found += [f"mount {m}" for m in mounts_under(bundle)]
        found += [f"shim {pid}" for pid in self.daemon.live_shims(cid)]
        return found

    def assert_gone(self, cid):
        # A deleted task's shim exits just after ctr returns.
        wait_for(lambda: self.leftovers(cid) == [], timeout=5, what=lambda: f"{cid}: {self.leftovers(cid)} left")

    def remove_all(self):
        for cid in self.ids:
            self.daemon.remove_container(cid)
        for cid in self.ids:
            self.assert_gone(cid)


@pytest.fixture(params=RUNTIME_PARAMS)
def ctr(request, containerd):
    containers = Containers(containerd, request.param)
    yield containers
    containers.remove_all()


def with_criu_on_path():
    """The environment, with $PYOCI_CRIU's directory first on PATH: the
    runtime the shim runs for a checkpoint finds CRIU there."""
    env = dict(os.environ)
    if env.get("PYOCI_CRIU"):
        env["PATH"] = os.path.dirname(env["PYOCI_CRIU"]) + os.pathsep + env["PATH"]
    return env


def cmdline(pid):
    with open(f"/proc/{pid}/cmdline") as f:
        return f.read().split("\0")[:-1]


# -- run -------------------------------------------------------------------------------------

def test_run_rm_returns_output_and_status_and_removes_the_container(ctr):
    cid, proc = ctr.run("sh", "-c", "echo I am pid $$; exit 3", options=("--rm",), check=False)
    assert (proc.returncode, proc.stdout) == (3, "I am pid 1\n"), proc.stderr
    ctr.assert_gone(cid)


def test_run_detached_puts_the_task_in_the_cgroup_asked_for(ctr):
    cid, pid = ctr.running()
    assert ctr.tasks()[cid] == (pid, "RUNNING")
    assert cmdline(pid) == ["sleep", "1000"]
    # In every hierarchy, the unified one and name=systemd included.
    assert all(d.endswith(ctr.cgroup(cid)) for d in cgroup_dirs(pid).values()), cgroup_dirs(pid)


def test_run_with_a_tty(ctr):
    cid = ctr.new_id()
    status, out = under_a_terminal(ctr.run_args(cid, "sh", "-c", "tty; exit 5", options=("--rm", "-t")))
    assert status == 5, out
    assert out.splitlines()[0].startswith("/dev/pts/"), out


def test_a_missing_command_fails_the_run_and_leaves_nothing(ctr):
    cid, proc = ctr.run("/no/such/command", options=("--rm",), check=False)
    assert proc.returncode != 0
    assert "/no/such/command" in proc.stderr and "no such file or directory" in proc.stderr, proc.stderr
    ctr.assert_gone(cid)


# -- exec, ps, metrics -----------------------------------------------------------------------

def test_exec_joins_the_task_and_returns_its_status(ctr):
    cid, _pid = ctr.running()
    proc = ctr("task", "exec", "--fifo-dir", ctr.daemon.fifo_dir, "--exec-id", "probe", cid,
               "sh", "-c", "tr '\\0' ' ' < /proc/1/cmdline; exit 4", check=False)
    assert (proc.returncode, proc.stdout) == (4, "sleep 1000 "), proc.stderr


def test_exec_with_a_tty(ctr):
    cid, _pid = ctr.running()
    status, out = under_a_terminal(ctr.daemon.ctr_args(
        "task", "exec", "-t", "--fifo-dir", ctr.daemon.fifo_dir, "--exec-id", "tty", cid, "tty"))
    assert status == 0, out
    assert out.splitlines()[0].startswith("/dev/pts/"), out


def ps_pids(ctr, cid):
    return {int(line.split()[0]) for line in ctr("task", "ps", cid).stdout.splitlines()[1:]}


def test_ps_lists_the_processes_of_the_task_cgroup(ctr):
    cid, pid = ctr.running("sh", "-c", "sleep 1000 & wait")
    wait_for(lambda: len(ps_pids(ctr, cid)) == 2)
    with open(os.path.join(cgroup_dir(pid, "pids"), "cgroup.procs")) as f:
        in_cgroup = {int(p) for p in f.read().split()}
    assert pid in in_cgroup
    assert ps_pids(ctr, cid) == in_cgroup


def test_metrics_report_memory_and_pids(ctr):
    cid, _pid = ctr.running()
    metrics = json.loads(ctr("task", "metrics", "--format", "json", cid).stdout)
    assert metrics["pids"]["current"] == 1
    usage = metrics["memory"]["usage"]
    # cgroup v1 reports usage with its limit and peak; v2 the bare figure.
    assert (usage["usage"] if isinstance(usage, dict) else usage) > 0, metrics["memory"]


# -- pause, kill, delete ---------------------------------------------------------------------

def test_pause_and_resume_freeze_the_cgroup(ctr):
    cid, pid = ctr.running()
    ctr("task", "pause", cid)
    assert ctr.tasks()[cid] == (pid, "PAUSED")
    assert cgroup_value(pid, "freezer", "freezer.state", "cgroup.freeze") in ("FROZEN", "1")
    ctr("task", "resume", cid)
    assert ctr.tasks()[cid] == (pid, "RUNNING")
    assert cgroup_value(pid, "freezer", "freezer.state", "cgroup.freeze") in ("THAWED", "0")


@pytest.mark.parametrize("signal_options,status", [((), 7), (("-s", "SIGKILL"), 137)], ids=["default", "SIGKILL"])
def test_kill_ends_the_task_with_the_status_ctr_run_reports(ctr, signal_options, status):
    """The default signal is SIGTERM, which the init (pid 1 in its namespace)
    only gets through a handler: the trap's exit 7 shows it arrived. SIGKILL
    is 128 + 9."""
    cid = ctr.new_id()
    command = ("sh", "-c", "trap 'exit 7' TERM; sleep 1000 & wait")
    foreground = subprocess.Popen(ctr.run_args(cid, *command), stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: cid in ctr.tasks())
        pid = ctr.tasks()[cid][0]
        # Until it has become the shell, the init may be runc's, which (in Go) catches TERM too.
        wait_for(lambda: cmdline(pid)[:1] == ["sh"] and int(status_fields(pid)["SigCgt"], 16) & TERM_CAUGHT)
        ctr("task", "kill", *signal_options, cid)
        assert foreground.wait(timeout=30) == status, foreground.stderr.read()
    finally:
        if foreground.poll() is None:
            foreground.kill()
        foreground.wait()
        foreground.stderr.close()


def test_task_delete_and_container_rm_remove_everything(ctr):
    cid, _pid = ctr.running()
    ctr("task", "kill", "-s", "SIGKILL", cid)
    wait_for(lambda: ctr.tasks()[cid][1] == "STOPPED")
    ctr("task", "delete", cid)
    assert cid not in ctr.tasks()
    assert not os.path.exists(os.path.join(ctr.daemon.runtime_root, ctr.daemon.namespace, cid))
    assert cgroup_trees_named(ctr.cgroup(cid)) == []
    ctr("containers", "rm", cid)
    ctr.assert_gone(cid)


def test_task_delete_force_ends_a_paused_task(ctr):
    cid, pid = ctr.running()
    ctr("task", "pause", cid)
    # The shim has the runtime send SIGKILL, then waits for the exit: the runtime must thaw the task.
    ctr("task", "delete", "--force", cid, timeout=20)
    assert cid not in ctr.tasks()
    wait_for(lambda: not os.path.exists(f"/proc/{pid}") or status_fields(pid)["State"].startswith("Z"))


# -- checkpoint ------------------------------------------------------------------------------

def test_checkpoint_and_restore(ctr, criu):
    cid, _pid = ctr.running("sh", "-c", "i=0; while :; do i=$((i+1)); echo $i > /tmp/n; sleep 0.1; done")

    def count():
        return int(ctr("task", "exec", "--fifo-dir", ctr.daemon.fifo_dir, "--exec-id", f"n{uuid.uuid4().hex[:6]}",
                       cid, "cat", "/tmp/n").stdout or 0)

    # 30 counts take 3 s: a restarted counter could not be back there by the check below.
    wait_for(lambda: count() >= 30)
    reached = count()
    image = f"localhost/pyoci-e2e/checkpoint-{cid}:1"
    ctr("containers", "checkpoint", "--task", "--rw", cid, image, timeout=120)
    try:
        # The task keeps running (no --exit); the copy is restored in its place.
        ctr("task", "delete", "--force", cid)
        ctr("containers", "rm", cid)
        ctr("containers", "restore", "--live", "--rw", cid, image, timeout=120)
        assert ctr.tasks()[cid][1] == "RUNNING"
        with open(os.path.join(ctr.daemon.runtime_root, ctr.daemon.namespace, cid, "state.json")) as f:
            # Restored by the runtime under test: pyoci's state record, or runc's.
            assert ("init_start_time" in json.load(f)) == ctr.binary.endswith("pyoci")
        # Right after the restore: it went on from where it stopped, not from 1.
        assert count() >= reached
    finally:
        ctr("images", "rm", image, check=False)
