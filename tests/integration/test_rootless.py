"""Rootless containers: an unprivileged user runs them with a --root of its
own under $XDG_RUNTIME_DIR, in a user namespace that maps its own ids (or
its /etc/subuid range, through newuidmap), with cgroups only where a
directory was delegated to it.

The runtime under test runs as a system user made for this module
(setpriv); everything made is removed even when a test fails: containers
(delete --force as that user), the user's processes (by pid), cgroup
directories, the lines added to /etc/subuid and /etc/subgid, the user.
Runs against runc too (PYOCI_RUNTIME=runc, see conftest).
"""
import json
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import uuid

import pytest

from bundle import write_bundle
from host_view import CGROUP_ROOT, cgroup_dirs, pure_v2, remove_cgroup_tree, status_fields
from leftovers import assert_nothing_left

PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SUBID_FILES = ("/etc/subuid", "/etc/subgid")
SUBID_BASE, SUBID_SIZE = 524288, 65536

pytestmark = pytest.mark.skipif(not shutil.which("setpriv"), reason="needs setpriv (util-linux)")


class User:
    def __init__(self, name):
        entry = pwd.getpwnam(name)
        self.name, self.uid, self.gid = name, entry.pw_uid, entry.pw_gid


@pytest.fixture(scope="module")
def user():
    name = f"pyoci-rl-{uuid.uuid4().hex[:8]}"
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=True)
    try:
        yield User(name)
    finally:
        subprocess.run(["userdel", name], check=True)


def processes_of(uids):
    """Host pids whose real uid is in uids (zombies aside: a killed init
    whose creator has exited waits for the host's init to reap it)."""
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                fields = status_fields(pid)
                if int(fields["Uid"].split()[0]) in uids and not fields["State"].startswith("Z"):
                    found.append(int(pid))
            except (OSError, KeyError):
                continue
    return found


class Rootless:
    """The runtime under test, run as the unprivileged user with
    XDG_RUNTIME_DIR=<base>/xdg and --root $XDG_RUNTIME_DIR/<runtime name>."""

    def __init__(self, runtime, user, base):
        self.cmd = runtime.cmd
        self.name = os.path.basename(self.cmd[0])
        self.rootfs = runtime.rootfs
        self.user = user
        self.base = base
        self.xdg = self.owned_dir("xdg", 0o700)
        self.root = os.path.join(self.xdg, self.name)
        self.ids = []
        self.subids = range(0)  # the /etc/subuid range the subids fixture gave the user
        self.cgroup = None  # a cgroup2 directory to start the runtime in (set by a test)

    @property
    def is_pyoci(self):
        return self.name == "pyoci"

    def owned_dir(self, name, mode=0o755):
        path = os.path.join(self.base, name)
        os.makedirs(path)
        os.chown(path, self.user.uid, self.user.gid)
        os.chmod(path, mode)
        return path

    def new_id(self):
        cid = f"t-{uuid.uuid4().hex[:12]}"
        self.ids.append(cid)
        return cid

    def __call__(self, *args, global_args=(), with_root=True, cwd=None, command=None):
        argv = ["setpriv", f"--reuid={self.user.uid}", f"--regid={self.user.gid}", "--clear-groups", "--"]
        argv += command or [*self.cmd, *(["--root", self.root] if with_root else []), *global_args, *args]
        if self.cgroup:  # moved there by root, before setpriv drops to the user
            argv = ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', self.cgroup, *argv]
        env = {"PATH": PATH, "XDG_RUNTIME_DIR": self.xdg, "USER": self.user.name, "HOME": self.base}
        # Files, not pipes: a container's init inherits create's stdio.
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            proc = subprocess.run(argv, stdout=out, stderr=err, env=env, cwd=cwd, timeout=60)
            out.seek(0)
            err.seek(0)
            proc.stdout = out.read().decode(errors="replace")
            proc.stderr = err.read().decode(errors="replace")
        return proc

    def bundle(self, args, mutate=None):
        """A bundle owned by the user with `spec --rootless`'s config, as
        pyoci writes it, running args on the shared busybox rootfs."""
        from pyoci.spec.default import default_config

        config = default_config(True, self.user.uid, self.user.gid)
        config["process"].update(terminal=False, args=list(args))
        config["root"]["path"] = self.rootfs
        if mutate:
            mutate(config)
        path = self.owned_dir(f"bundle-{uuid.uuid4().hex[:8]}")
        write_bundle(path, config)
        return path

    def state(self, cid):
        proc = self("state", cid)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    def cleanup(self):
        for cid in self.ids:
            self("delete", "--force", cid)


@pytest.fixture
def rootless(runtime, user):
    base = tempfile.mkdtemp(prefix="pyoci-rootless-")
    os.chmod(base, 0o755)  # the user must reach its directories in here
    rl = Rootless(runtime, user, base)
    stray = []
    try:
        yield rl
    finally:
        try:
            rl.cleanup()
        finally:
            # The user is this module's own, and so are the ids given to it:
            # whatever runs as them was started here.
            stray = processes_of({user.uid} | set(rl.subids))
            for pid in stray:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            shutil.rmtree(base)
    assert stray == [], f"processes of the rootless user left behind: {stray}"
    for cid in rl.ids:
        assert_nothing_left(rl.root, cid, base, rl.rootfs)


def free_subid_base():
    """The first range of SUBID_SIZE ids from SUBID_BASE up that no line of
    /etc/subuid or /etc/subgid gives anyone."""
    taken = []
    for path in SUBID_FILES:
        try:
            with open(path) as f:
                lines = f.read().split()
        except FileNotFoundError:
            continue
        for line in lines:  # name:first:count
            fields = line.split(":")
            if len(fields) == 3 and fields[1].isdigit() and fields[2].isdigit():
                taken.append((int(fields[1]), int(fields[1]) + int(fields[2])))
    base = SUBID_BASE
    while any(first < base + SUBID_SIZE and base < end for first, end in taken):
        base += SUBID_SIZE
    return base


@pytest.fixture
def subids(rootless, user):
    """A /etc/subuid and /etc/subgid range for the user, one nobody else
    has; both files get back exactly what they held."""
    base = free_subid_base()
    rootless.subids = range(base, base + SUBID_SIZE)
    saved = {}
    for path in SUBID_FILES:
        try:
            with open(path, "rb") as f:
                saved[path] = f.read()
        except FileNotFoundError:
            saved[path] = None
    try:
        for path, before in saved.items():
            with open(path, "ab") as f:
                if before and not before.endswith(b"\n"):
                    f.write(b"\n")
                f.write(f"{user.name}:{base}:{SUBID_SIZE}\n".encode())
        yield base
    finally:
        for path, before in saved.items():
            if before is None:
                os.unlink(path)
            else:
                with open(path, "wb") as f:
                    f.write(before)


@pytest.fixture
def delegated(user):
    """A cgroup handed to the user in the memory and pids hierarchies (v1:
    chowned to it), as an administrator delegates one; its path from the
    hierarchies' roots."""
    if not all(os.path.isdir(os.path.join(CGROUP_ROOT, c)) for c in ("memory", "pids")):
        pytest.skip("no v1 memory and pids hierarchies to delegate a cgroup from")
    name = f"/t-rl-{uuid.uuid4().hex[:8]}"
    try:
        for controller in ("memory", "pids"):
            directory = os.path.join(CGROUP_ROOT, controller, name.lstrip("/"))
            os.mkdir(directory)
            os.chown(directory, user.uid, user.gid)
        yield name
    finally:
        remove_cgroup_tree(name)


@pytest.fixture
def systemd_user_session(user):
    """The cgroups systemd gives a logged-in user on a pure v2 host, made by
    hand: user-UID.slice under user.slice, the delegated user@UID.service
    (the directory and its cgroup.procs, cgroup.subtree_control and
    cgroup.threads chowned to the user, as Delegate=yes does), and inside it,
    as the user's own systemd lays it out, app.slice with the controllers
    enabled and a scope the user's commands run in (systemd-run --user
    --scope).  Yields (user@UID.service, the scope)."""
    if not pure_v2():
        pytest.skip("needs pure cgroup v2 (the v2 lane)")
    top = os.path.join(CGROUP_ROOT, "user.slice", f"user-{user.uid}.slice")
    service = os.path.join(top, f"user@{user.uid}.service")
    app = os.path.join(service, "app.slice")
    scope = os.path.join(app, f"run-{uuid.uuid4().hex[:8]}.scope")
    made = []

    def enable(directory, controllers):
        with open(os.path.join(directory, "cgroup.subtree_control"), "w") as f:
            f.write(" ".join("+" + c for c in controllers))

    try:
        for directory in (top, service):
            os.mkdir(directory)
            made.append(directory)
            enable(directory, ("memory", "pids"))
        for name in ("", "cgroup.procs", "cgroup.subtree_control", "cgroup.threads"):
            os.chown(os.path.join(service, name), user.uid, user.gid)
        for directory in (app, scope):  # the user's systemd makes these, as the user
            os.mkdir(directory)
            made.append(directory)
            for name in ("", "cgroup.procs", "cgroup.subtree_control", "cgroup.threads"):
                os.chown(os.path.join(directory, name), user.uid, user.gid)
        enable(app, ("memory", "pids"))
        yield service, scope
    finally:
        for directory in reversed(made):
            for sub in [d for d in os.listdir(directory) if os.path.isdir(os.path.join(directory, d))]:
                os.rmdir(os.path.join(directory, sub))
            os.rmdir(directory)


# systemd_user_session before rootless: the containers are deleted first.
def test_a_systemd_delegated_cgroup_is_used_on_v2(systemd_user_session, rootless):
    """A user in a scope of its user@UID.service: a container without a
    cgroupsPath goes next to that scope (the scope holds the user's
    processes), gets its limits there, is updated and deleted, and nothing
    systemd made is changed."""
    service, scope = systemd_user_session
    rl = rootless
    rl.cgroup = scope

    def snapshot():
        found = {}
        for directory in (service, os.path.dirname(scope), scope):
            with open(os.path.join(directory, "cgroup.subtree_control")) as f:
                found[directory] = f.read()
        return found

    before = snapshot()
    cid = rl.new_id()

    def mutate(config):
        config["linux"]["resources"] = {"memory": {"limit": 64 << 20}, "pids": {"limit": 64}}

    proc = rl("create", "-b", rl.bundle(["sleep", "1000"], mutate), cid)
    assert proc.returncode == 0, proc.stderr
    pid = rl.state(cid)["pid"]
    directory = os.path.join(os.path.dirname(scope), cid)
    assert cgroup_dirs(pid)[""] == directory
    with open(os.path.join(directory, "memory.max")) as f:
        assert f.read().strip() == str(64 << 20)
    assert rl("update", "--pids-limit", "32", cid).returncode == 0
    with open(os.path.join(directory, "pids.max")) as f:
        assert f.read().strip() == "32"
    assert rl("delete", "--force", cid).returncode == 0
    assert not os.path.exists(directory)
    assert snapshot() == before


def wait_stopped(rl, cid, timeout=10):
    deadline = time.monotonic() + timeout
    while rl.state(cid)["status"] != "stopped":
        assert time.monotonic() < deadline, f"{cid} did not stop"
        time.sleep(0.05)


def assert_failed_cleanly(rl, proc, cid, *words):
    assert proc.returncode == 1, proc.stdout + proc.stderr
    said = proc.stderr.lower()
    for word in words:
        assert word in said, proc.stderr
    assert not os.path.exists(os.path.join(rl.root, cid)), "state directory left behind"
    assert processes_of({rl.user.uid}) == [], "container process left behind"


# -- the user's own ids ---------------------------------------------------------


def test_spec_rootless_writes_a_config_the_user_can_run(rootless):
    rl = rootless
    bundle = rl.owned_dir("spec-bundle")
    proc = rl("spec", "--rootless", cwd=bundle)
    assert proc.returncode == 0, proc.stderr
    with open(os.path.join(bundle, "config.json")) as f:
        config = json.load(f)
    linux = config["linux"]
    kinds = [ns["type"] for ns in linux["namespaces"]]
    assert "user" in kinds and "network" not in kinds
    assert linux["uidMappings"] == [{"containerID": 0, "hostID": rl.user.uid, "size": 1}]
    assert linux["gidMappings"] == [{"containerID": 0, "hostID": rl.user.gid, "size": 1}]
    assert "resources" not in linux
    sys_mount = next(m for m in config["mounts"] if m["destination"] == "/sys")
    assert sys_mount["source"] == "/sys" and {"rbind", "ro"} <= set(sys_mount["options"])
    assert not [o for m in config["mounts"] for o in m.get("options", []) if o.startswith(("uid=", "gid="))]

    config["process"].update(terminal=False, args=["sh", "-c", "id -u; id -g; cat /proc/self/uid_map"])
    config["root"]["path"] = rl.rootfs
    write_bundle(bundle, config)
    cid = rl.new_id()
    proc = rl("run", "-b", bundle, cid)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.split("\n")
    assert lines[:2] == ["0", "0"]
    assert lines[2].split() == ["0", str(rl.user.uid), "1"]


def test_lifecycle_as_the_user(rootless):
    rl = rootless
    cid = rl.new_id()
    proc = rl("create", "-b", rl.bundle(["sleep", "1000"]), cid)
    assert proc.returncode == 0, proc.stderr
    state = rl.state(cid)
    assert state["status"] == "created"
    assert os.path.isdir(os.path.join(rl.root, cid)), "state under $XDG_RUNTIME_DIR"
    uids = status_fields(state["pid"])["Uid"].split()
    assert uids == [str(rl.user.uid)] * 4, "container root is the user on the host"
    assert rl("start", cid).returncode == 0
    assert rl.state(cid)["status"] == "running"
    assert rl("kill", cid, "KILL").returncode == 0
    wait_stopped(rl, cid)
    proc = rl("delete", cid)
    assert proc.returncode == 0, proc.stderr
    assert rl("state", cid).returncode != 0
    assert not os.path.exists(os.path.join(rl.root, cid))


def test_default_root_is_under_xdg_runtime_dir(rootless):
    rl = rootless
    cid = rl.new_id()
    proc = rl("create", "-b", rl.bundle(["sleep", "1000"]), cid, with_root=False)
    assert proc.returncode == 0, proc.stderr
    assert os.path.isdir(os.path.join(rl.xdg, rl.name, cid))
    assert os.stat(os.path.join(rl.xdg, rl.name)).st_mode & 0o7777 == 0o1700
    assert rl("delete", "--force", cid, with_root=False).returncode == 0
    assert not os.path.exists(os.path.join(rl.xdg, rl.name, cid))


def test_restore_makes_the_default_root_as_create_does(rootless):
    rl = rootless
    cid = rl.new_id()
    proc = rl("restore", "--image-path", rl.owned_dir("no-images"), "-b", rl.bundle(["true"]), cid, with_root=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert os.stat(os.path.join(rl.xdg, rl.name)).st_mode & 0o7777 == 0o1700
    assert not os.path.exists(os.path.join(rl.xdg, rl.name, cid))


def test_cgroups_skipped_without_delegation(rootless):
    rl = rootless
    cid = rl.new_id()
    log = os.path.join(rl.owned_dir("log"), "log.json")
    proc = rl("create", "-b", rl.bundle(["sleep", "1000"]), cid,
              global_args=("--debug", "--log", log, "--log-format", "json"))
    assert proc.returncode == 0, proc.stderr
    pid = rl.state(cid)["pid"]
    # The init stays where its creator is (this test's cgroups, which setpriv kept).
    assert cgroup_dirs(pid) == cgroup_dirs(os.getpid())
    proc = rl("update", "--memory", "100m", cid)
    assert proc.returncode == 1 and "memory" in proc.stderr and "cgroup" in proc.stderr, proc.stderr
    if rl.is_pyoci:
        with open(log) as f:
            records = [json.loads(line) for line in f]
        assert any(r["level"] == "debug" and "skipped" in r["msg"] and "rootless" in r["msg"] for r in records)


def test_checkpoint_of_a_container_without_its_cgroups_gets_to_criu(rootless):
    """The "cgroup" mount of a container whose cgroups were skipped shows
    the user's own: checkpoint names its binds to CRIU from what it shows.
    CRIU itself may refuse an unprivileged caller; whatever it says, the
    runtime reports it as an error of its own, and the container runs on."""
    rl = rootless
    cid = rl.new_id()
    proc = rl("run", "--detach", "-b", rl.bundle(["sleep", "1000"]), cid)
    assert proc.returncode == 0, proc.stderr
    images = rl.owned_dir("images")
    proc = rl("checkpoint", "--image-path", images, "--leave-running", cid)
    assert "Traceback" not in proc.stderr, proc.stderr
    if proc.returncode != 0:
        assert proc.returncode == 1 and "criu" in proc.stderr.lower(), proc.stderr
    assert rl.state(cid)["status"] == "running"


# delegated before rootless: pytest ends fixtures in the reverse order, so
# the containers are deleted before the delegated cgroup is removed.
def test_delegated_cgroup_is_used(delegated, rootless):
    rl = rootless
    cid = rl.new_id()

    def mutate(config):
        config["linux"]["cgroupsPath"] = f"{delegated}/{cid}"
        config["linux"]["resources"] = {"memory": {"limit": 64 << 20}, "pids": {"limit": 64}}

    proc = rl("create", "-b", rl.bundle(["sleep", "1000"], mutate), cid)
    assert proc.returncode == 0, proc.stderr
    pid = rl.state(cid)["pid"]
    found = cgroup_dirs(pid)
    for controller, name, value in (("memory", "memory.limit_in_bytes", str(64 << 20)), ("pids", "pids.max", "64")):
        directory = os.path.join(CGROUP_ROOT, controller, delegated.lstrip("/"), cid)
        assert found[controller] == directory
        with open(os.path.join(directory, name)) as f:
            assert f.read().strip() == value
    proc = rl("update", "--pids-limit", "32", cid)
    assert proc.returncode == 0, proc.stderr
    with open(os.path.join(found["pids"], "pids.max")) as f:
        assert f.read().strip() == "32"
    own = cgroup_dirs(os.getpid())
    assert {k: v for k, v in found.items() if k not in ("memory", "pids")} == \
        {k: v for k, v in own.items() if k not in ("memory", "pids")}, "not delegated: where the creator is"
    assert rl("delete", "--force", cid).returncode == 0
    for controller in ("memory", "pids"):
        assert not os.path.exists(os.path.join(CGROUP_ROOT, controller, delegated.lstrip("/"), cid))


def test_root_in_a_user_namespace_is_rootless_too(rootless):
    """`unshare --map-root-user` makes the user root in a user namespace:
    --rootless auto still skips the cgroups it may not use, and the default
    --root is $XDG_RUNTIME_DIR's (USER is not root)."""
    rl = rootless
    cid = rl.new_id()
    bundle = rl.bundle(["sh", "-c", "id -u"], lambda c: c["linux"].update(
        uidMappings=[{"containerID": 0, "hostID": 0, "size": 1}],
        gidMappings=[{"containerID": 0, "hostID": 0, "size": 1}]))
    proc = rl(command=["unshare", "--user", "--map-root-user", *rl.cmd, "run", "-b", bundle, cid])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["0"]
    assert os.path.isdir(os.path.join(rl.xdg, rl.name))


# -- /etc/subuid ranges through newuidmap ----------------------------------------


def test_subuid_range_through_newuidmap(rootless, subids):
    rl = rootless
    if not shutil.which("newuidmap"):
        pytest.skip("newuidmap is not installed (Debian package uidmap)")
    shared = rl.owned_dir("shared")

    def mutate(config):
        linux = config["linux"]
        for field, own in (("uidMappings", rl.user.uid), ("gidMappings", rl.user.gid)):
            linux[field] = [{"containerID": 0, "hostID": own, "size": 1},
                            {"containerID": 1, "hostID": subids, "size": SUBID_SIZE}]
        config["mounts"].append({"destination": "/tmp", "type": "bind", "source": shared, "options": ["rbind"]})
        for kind in ("bounding", "effective", "permitted"):
            config["process"]["capabilities"][kind].append("CAP_CHOWN")

    cid = rl.new_id()
    script = "cat /proc/self/uid_map; touch /tmp/f; chown 1:1 /tmp/f; touch /tmp/g; chown 1000:1000 /tmp/g"
    proc = rl("run", "-b", rl.bundle(["sh", "-c", script], mutate), cid)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert [line.split() for line in proc.stdout.strip().split("\n")] == [
        ["0", str(rl.user.uid), "1"], ["1", str(subids), str(SUBID_SIZE)]]
    f, g = os.stat(os.path.join(shared, "f")), os.stat(os.path.join(shared, "g"))
    assert (f.st_uid, f.st_gid) == (subids, subids)
    assert (g.st_uid, g.st_gid) == (subids + 999, subids + 999)


# -- bad input leaves nothing behind ----------------------------------------------


def test_limits_without_a_delegated_cgroup_fail(rootless):
    rl = rootless
    cid = rl.new_id()
    bundle = rl.bundle(["true"], lambda c: c["linux"].update(resources={"memory": {"limit": 64 << 20}}))
    assert_failed_cleanly(rl, rl("run", "-b", bundle, cid), cid, "memory", "cgroup")


def test_cgroups_path_without_permission_fails(rootless):
    rl = rootless
    cid = rl.new_id()
    bundle = rl.bundle(["true"], lambda c: c["linux"].update(cgroupsPath=f"/t-rl-none/{cid}"))
    assert_failed_cleanly(rl, rl("run", "-b", bundle, cid), cid, "permission denied")


def test_no_user_namespace_fails(rootless):
    rl = rootless
    cid = rl.new_id()

    def mutate(config):
        linux = config["linux"]
        linux["namespaces"] = [ns for ns in linux["namespaces"] if ns["type"] != "user"]
        del linux["uidMappings"], linux["gidMappings"]

    assert_failed_cleanly(rl, rl("run", "-b", rl.bundle(["true"], mutate), cid), cid, "user namespace")


def test_a_range_without_subuid_fails(rootless):
    rl = rootless
    if not shutil.which("newuidmap"):
        pytest.skip("newuidmap is not installed (Debian package uidmap)")
    cid = rl.new_id()

    def mutate(config):
        config["linux"]["uidMappings"].append({"containerID": 1, "hostID": SUBID_BASE, "size": SUBID_SIZE})

    proc = rl("run", "-b", rl.bundle(["true"], mutate), cid)
    assert_failed_cleanly(rl, proc, cid, "newuidmap", "not allowed")
