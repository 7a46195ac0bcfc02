"""podman end to end, with pyoci as its --runtime and runc beside it.

podman 4.3 drives the runtime through conmon as it does in production:
`create` with a JSON --log and a console socket, `start`, `exec --process`,
`pause`/`resume`, `kill`, `delete --force`.  Every test runs once per
runtime (test ids end in [pyoci] or [runc]).

podman is kept off the host's own state: storage (vfs), run and tmp
directories, file locks, the events file and containers.conf are under a
temporary directory, the runtime's state goes to a --root of the test's, and
containers are put under a cgroup parent named for the session.  The image is
a busybox-static rootfs brought in with `podman import`.  At the end every
container and the image are removed, and nothing may be left mounted, in
the cgroup parent, or in the runtime's state.
"""
import json
import os
import shutil
import subprocess
import tempfile
import uuid

import pytest

from bundle import make_rootfs
from captured import run_captured
from engines import RUNTIME_PARAMS, wait_for
from host_view import cgroup_trees_named, cgroup_value, remove_cgroup_tree, status_fields
from leftovers import mounts_under

IMAGE = "localhost/busybox"
# This machine's hard RLIMIT_NOFILE is 20000 and podman may not raise it
# (no CAP_SYS_RESOURCE here): its default of 1048576 would fail every run.
CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
netns = "none"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "{base}/events.log"
lock_type = "file"
runtime_supports_json = ["crun", "runc", "pyoci"]
"""

pytestmark = pytest.mark.skipif(not shutil.which("podman"), reason="podman is not installed")


class Podman:
    """podman with the session's private storage and the runtime under test."""

    def __init__(self, base, cgroup_parent):
        self.base = base
        self.cgroup_parent = cgroup_parent
        self.env = dict(os.environ, CONTAINERS_CONF=os.path.join(base, "containers.conf"),
                        TMPDIR=os.path.join(base, "tmp"))
        self.runtime = None

    def global_args(self):
        args = ["podman", "--root", f"{self.base}/storage", "--runroot", f"{self.base}/run",
                "--storage-driver", "vfs", "--tmpdir", f"{self.base}/libpod"]
        if self.runtime:
            args += ["--runtime", self.runtime]
        return args

    @property
    def state_root(self):
        """The runtime's default --root: podman 4.3 leaves its --runtime-flag
        off the `delete` it runs, so the state cannot be kept elsewhere."""
        return f"/run/{os.path.basename(self.runtime)}"

    def states(self):
        return set(os.listdir(self.state_root)) if os.path.isdir(self.state_root) else set()

    def __call__(self, *args, check=True, timeout=60):
        proc = run_captured(self.global_args() + list(args), stdin=subprocess.DEVNULL, env=self.env,
                            timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)}: exit {proc.returncode}: {proc.stderr}")
        return proc

    def run(self, *args, check=True):
        """podman run of IMAGE under the session's cgroup parent; args are
        run's options, then "--", then the command."""
        split = args.index("--")
        return self("run", "--cgroup-parent", self.cgroup_parent, *args[:split], IMAGE, *args[split + 1:],
                    check=check)

    def inspect(self, name):
        return json.loads(self("inspect", "--format", "json", name).stdout)[0]

    def state(self, name):
        return self.inspect(name)["State"]


@pytest.fixture(scope="module")
def podman_session():
    base = tempfile.mkdtemp(prefix="pyoci-podman-")
    os.makedirs(os.path.join(base, "tmp"))
    with open(os.path.join(base, "containers.conf"), "w") as f:
        f.write(CONTAINERS_CONF.format(base=base))
    session = Podman(base, f"/pyoci-podman-{uuid.uuid4().hex[:10]}")
    rootfs = make_rootfs(os.path.join(base, "rootfs"))
    tar = subprocess.Popen(["tar", "-C", rootfs, "-c", "."], stdout=subprocess.PIPE)
    imported = subprocess.run(session.global_args() + ["import", "-", IMAGE], stdin=tar.stdout,
                              capture_output=True, env=session.env)
    tar.wait()
    assert imported.returncode == 0, imported.stderr
    try:
        yield session
    finally:
        session.runtime = None
        session("rm", "--all", "--force", "--time", "0", check=False)
        session("rmi", "--all", "--force", check=False)
        leftover_mounts = mounts_under(base)
        leftover_cgroups = container_cgroups(session.cgroup_parent)
        for mountpoint in reversed(leftover_mounts):
            subprocess.run(["umount", "-l", mountpoint], check=False)
        remove_cgroup_tree(session.cgroup_parent)
        shutil.rmtree(base)
        assert leftover_mounts == [], "podman's containers left mounts behind"
        assert leftover_cgroups == [], "containers' cgroups left behind"


def container_cgroups(parent):
    """The containers' cgroups (libpod-<id>) under parent, in every hierarchy;
    conmon's, beside them, is podman's own."""
    found = []
    for directory in cgroup_trees_named(parent):
        found += [os.path.join(directory, d) for d in os.listdir(directory) if d.startswith("libpod-")]
    return found


@pytest.fixture(params=RUNTIME_PARAMS)
def podman(request, podman_session):
    """The session's podman pointed at one runtime; the test's containers
    (named by new_name) are removed afterwards and must leave no runtime state."""
    podman_session.runtime = request.param
    names = []
    podman_session.new_name = lambda: names.append(f"e2e-{uuid.uuid4().hex[:10]}") or names[-1]
    states_before = podman_session.states()
    yield podman_session
    for name in names:
        podman_session("rm", "--force", "--time", "0", name, check=False)
    left = podman_session.states() - states_before
    assert not left, f"runtime state left in {podman_session.state_root}: {left}"


def running(podman, *options, command=("sleep", "1000")):
    """A detached container; returns (name, host pid of its init)."""
    name = podman.new_name()
    podman.run("-d", "--name", name, *options, "--", *command)
    return name, podman.state(name)["Pid"]


def ancestors(pid):
    chain = []
    while pid > 1:
        pid = int(status_fields(pid)["PPid"])
        chain.append(pid)
    return chain


# -- run -------------------------------------------------------------------------------------

def test_run_rm_prints_and_removes(podman):
    name = podman.new_name()
    proc = podman.run("--rm", "--name", name, "--", "sh", "-c", "echo hello from $(hostname)")
    assert proc.stdout.startswith("hello from "), proc.stdout
    assert podman("container", "exists", name, check=False).returncode == 1


def test_run_detached_stays_under_conmon(podman):
    name, pid = running(podman)
    state = podman.state(name)
    assert state["Status"] == "running"
    # conmon is a subreaper: the init must still be its descendant once create has exited.
    assert state["ConmonPid"] in ancestors(pid)
    with open(f"/proc/{pid}/cmdline") as f:
        assert f.read().split("\0")[:2] == ["sleep", "1000"]


def test_run_with_a_tty(podman):
    proc = podman.run("--rm", "-t", "--", "tty")
    lines = proc.stdout.replace("\r", "").split("\n")
    assert lines[0].startswith("/dev/pts/"), proc.stdout


@pytest.mark.parametrize("command,status", [
    (["sh", "-c", "exit 3"], 3),
    (["/etc/passwd"], 126),
    (["/nonexistent"], 127),
])
def test_exit_codes(podman, command, status):
    name = podman.new_name()
    proc = podman.run("--name", name, "--", *command, check=False)
    assert proc.returncode == status, proc.stderr
    if status > 125:
        # podman's own codes come from the wording of the runtime's JSON log.
        assert ("permission denied" if status == 126 else "no such file or directory") in proc.stderr


def test_kill_gives_137(podman):
    name, pid = running(podman)
    podman("kill", name)
    assert podman("wait", name).stdout.strip() == "137"
    assert not os.path.exists(f"/proc/{pid}/cmdline") or open(f"/proc/{pid}/cmdline").read() == ""


def test_stop_sends_term_first(podman):
    name, _pid = running(podman, command=("sh", "-c", "trap 'exit 7' TERM; while :; do sleep 0.1; done"))
    podman("stop", "--time", "20", name)
    state = podman.state(name)
    assert (state["Status"], state["ExitCode"]) == ("exited", 7)


# -- exec, top, pause ------------------------------------------------------------------------

def test_exec_joins_the_container(podman):
    name, pid = running(podman)
    proc = podman("exec", name, "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; echo; hostname; exit 5", check=False)
    assert proc.returncode == 5, proc.stderr
    assert proc.stdout.split("\n")[0] == "sleep 1000 "
    assert proc.stdout.split("\n")[1] == podman.inspect(name)["Config"]["Hostname"]


def test_exec_with_a_tty(podman):
    name, _pid = running(podman)
    proc = podman("exec", "-t", name, "tty")
    assert proc.stdout.strip().startswith("/dev/pts/"), proc.stdout


def test_top_lists_the_container_processes(podman):
    name, _pid = running(podman)
    podman("exec", "-d", name, "sleep", "999")
    wait_for(lambda: "sleep 999" in podman("top", name, "pid", "args").stdout)
    lines = podman("top", name, "pid", "args").stdout.splitlines()
    assert lines[1].split() == ["1", "sleep", "1000"], lines


def test_pause_and_unpause_freeze_the_cgroup(podman):
    name, pid = running(podman)
    podman("pause", name)
    assert podman.state(name)["Status"] == "paused"
    assert cgroup_value(pid, "freezer", "freezer.state", "cgroup.freeze") in ("FROZEN", "1")
    podman("unpause", name)
    assert podman.state(name)["Status"] == "running"
    assert cgroup_value(pid, "freezer", "freezer.state", "cgroup.freeze") in ("THAWED", "0")


def test_rm_force_ends_a_running_container(podman):
    name, pid = running(podman)
    podman("rm", "--force", "--time", "0", name)
    assert podman("container", "exists", name, check=False).returncode == 1
    wait_for(lambda: not os.path.exists(f"/proc/{pid}") or status_fields(pid)["State"].startswith("Z"))


# -- options ---------------------------------------------------------------------------------

def test_resource_limits_reach_the_cgroups(podman):
    _name, pid = running(podman, "--memory", "64m", "--pids-limit", "50", "--cpus", "0.5")
    assert cgroup_value(pid, "memory", "memory.limit_in_bytes", "memory.max") == str(64 << 20)
    assert cgroup_value(pid, "pids", "pids.max", "pids.max") == "50"
    quota = cgroup_value(pid, "cpu", "cpu.cfs_quota_us", "cpu.max").split()[0]
    period = cgroup_value(pid, "cpu", "cpu.cfs_period_us", "cpu.max").split()[-1]
    assert int(quota) * 2 == int(period), (quota, period)


def test_read_only_root_with_writable_tmp(podman):
    proc = podman.run("--rm", "--read-only", "--",
                      "sh", "-c", "touch /x 2>&1; touch /tmp/x && echo tmp-ok; stat -f -c %T /tmp", check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[:3] == ["touch: /x: Read-only file system", "tmp-ok", "tmpfs"], proc.stdout


def test_cap_drop_all(podman):
    _name, pid = running(podman, "--cap-drop", "all")
    status = status_fields(pid)
    for field in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(status[field], 16) == 0, (field, status[field])


def test_user(podman):
    name, pid = running(podman, "--user", "65534:65534")
    status = status_fields(pid)
    assert status["Uid"].split() == ["65534"] * 4
    assert status["Gid"].split() == ["65534"] * 4
    assert podman("exec", name, "id").stdout.strip().startswith("uid=65534(nobody) gid=65534(nobody)")


# -- checkpoint ------------------------------------------------------------------------------

def test_checkpoint_and_restore(podman, criu):
    # podman checks CRIU itself and runs the runtime without --criu: both find it on PATH.
    podman.env["PATH"] = os.path.dirname(criu) + os.pathsep + os.environ["PATH"]
    try:
        name, _pid = running(podman, command=("sh", "-c", "i=0; while :; do i=$((i+1)); echo $i > /tmp/n; sleep 0.1; done"))
        def count():
            return int(podman("exec", name, "cat", "/tmp/n").stdout or 0)

        # 30 counts take 3 s: a restarted counter could not be back there by the check below.
        wait_for(lambda: count() >= 30)
        reached = count()
        podman("container", "checkpoint", name, timeout=120)
        assert podman.state(name)["Status"] == "exited"
        with open(os.path.join(podman.inspect(name)["StaticDir"], "checkpoint", "inventory.img"), "rb"):
            pass  # CRIU's images are there
        podman("container", "restore", name, timeout=120)
        assert podman.state(name)["Status"] == "running"
        # Right after the restore: it went on from where it stopped, not from 1.
        assert count() >= reached
    finally:
        podman.env["PATH"] = os.environ["PATH"]
