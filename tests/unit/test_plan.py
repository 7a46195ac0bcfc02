"""Unit tests of the config -> launch plan compiler and the small pure helpers
around it: mount options, signal names, fd ranges, the state store's atomic
write and /proc parsing, and the CLI's global flags.

No root, no clone: compile_plan only opens namespace files to join (and
/proc/self/ns/* is there for anyone), everything else is data.
"""
import os
import posix
import resource
import shutil
import signal
import subprocess
import time

import pytest

from pyoci.cgroups import Hierarchy
from pyoci.core.errors import ConfigError, PyociError
from pyoci.core.log import log
from pyoci.plan import mounts as m
from pyoci.plan.compile import CLONE_NEWCGROUP, compile_plan
from pyoci.plan.namespaces import FLAGS, close_joins
from pyoci.plan.steps import Plan, Step
from pyoci.spec.default import default_config

HYBRID = [
    Hierarchy("/sys/fs/cgroup/cpu", frozenset({"cpu"}), False),
    Hierarchy("/sys/fs/cgroup/memory", frozenset({"memory"}), False),
    Hierarchy("/sys/fs/cgroup/unified", frozenset(), True),
]
UNIFIED = [Hierarchy("/sys/fs/cgroup", frozenset({"cpu", "memory", "pids"}), True)]


def dirs_for(hierarchies, name="c1"):
    return {h.mountpoint: os.path.join(h.mountpoint, "pyoci", name) for h in hierarchies}


@pytest.fixture
def bundle(tmp_path):
    os.makedirs(tmp_path / "rootfs")
    return str(tmp_path)


@pytest.fixture
def config(bundle):
    c = default_config()
    c["root"]["path"] = os.path.join(bundle, "rootfs")
    c["process"]["terminal"] = False
    return c


@pytest.fixture
def compile_(bundle):
    """compile_plan(config, ...) with fake hierarchies; joins closed after the test."""
    plans = []

    def run(config, hierarchies=HYBRID, **kw):
        plan = compile_plan(config, bundle, log, dirs_for(hierarchies), hierarchies, **kw)
        plans.append(plan)
        return plan

    yield run
    for plan in plans:
        close_joins(plan)


def ops(plan):
    return [s.op for s in plan.steps]


def steps_of(plan, op):
    return [s for s in plan.steps if s.op == op]


def one(plan, op):
    found = steps_of(plan, op)
    assert len(found) == 1, f"{op}: {found}"
    return found[0]


def caps_of(step):
    return step.effective, step.permitted, step.inheritable, step.ambient


def first(plan, op):
    return ops(plan).index(op)


def last(plan, op):
    return len(plan.steps) - 1 - ops(plan)[::-1].index(op)


def set_namespaces(config, *entries):
    config["linux"]["namespaces"] = [e if isinstance(e, dict) else {"type": e} for e in entries]


# -- namespaces ---------------------------------------------------------------

def test_only_new_namespaces_clone_them_all_but_cgroup(config, compile_):
    plan = compile_(config)
    expected = FLAGS["pid"] | FLAGS["network"] | FLAGS["ipc"] | FLAGS["uts"] | FLAGS["mount"]
    assert plan.clone_flags == expected
    assert not plan.clone_flags & (FLAGS["cgroup"] | FLAGS["time"])
    assert plan.unshare_flags == 0
    assert plan.joins == [] and plan.join_paths == []
    assert not plan.fork_after
    assert not plan.new_userns
    # The cgroup namespace comes first, by a step, once the init is in its cgroups.
    assert plan.cgroupns_late
    assert plan.steps[0].op == "UNSHARE"
    assert plan.steps[0].flags == CLONE_NEWCGROUP
    assert "cgroup" in plan.steps[0].label


def test_no_cgroup_namespace_no_unshare_step(config, compile_):
    set_namespaces(config, "mount", "uts", "network")
    plan = compile_(config)
    assert "UNSHARE" not in ops(plan)
    assert not plan.cgroupns_late
    assert plan.clone_flags == FLAGS["mount"] | FLAGS["uts"] | FLAGS["network"]
    assert not plan.fork_after


def test_joined_namespace_clones_plainly_and_unshares(config, compile_):
    config["linux"]["namespaces"][1] = {"type": "network", "path": "/proc/self/ns/net"}
    plan = compile_(config)
    assert plan.clone_flags == 0
    assert plan.unshare_flags == FLAGS["pid"] | FLAGS["ipc"] | FLAGS["uts"] | FLAGS["mount"]
    assert len(plan.joins) == 1
    fd, kind = plan.joins[0]
    assert kind == FLAGS["network"]
    assert os.fstat(fd).st_ino == os.stat("/proc/self/ns/net").st_ino
    assert plan.join_paths == [("network", "/proc/self/ns/net")]
    assert plan.fork_after  # a new pid namespace after unshare applies to children only
    # A joined network namespace is not ours to bring loopback up in.
    assert "LOOPBACK_UP" not in ops(plan)


def test_joined_without_new_pid_does_not_fork(config, compile_):
    set_namespaces(config, "mount", {"type": "uts", "path": "/proc/self/ns/uts"})
    plan = compile_(config)
    assert plan.clone_flags == 0
    assert plan.unshare_flags == FLAGS["mount"]
    assert not plan.fork_after


def test_joined_pid_namespace_forks(config, compile_):
    set_namespaces(config, "mount", {"type": "pid", "path": "/proc/self/ns/pid"})
    plan = compile_(config)
    assert plan.fork_after
    assert plan.joins[0][1] == FLAGS["pid"]


def test_join_order_user_first_mount_last(config, compile_):
    set_namespaces(config,
                   {"type": "mount", "path": "/proc/self/ns/mnt"},
                   {"type": "network", "path": "/proc/self/ns/net"},
                   {"type": "user", "path": "/proc/self/ns/user"})
    config["hostname"] = None
    plan = compile_(config)
    assert [k for _fd, k in plan.joins] == [FLAGS["user"], FLAGS["network"], FLAGS["mount"]]
    assert [t for t, _p in plan.join_paths] == ["user", "network", "mount"]
    assert plan.clone_flags == 0 and plan.unshare_flags == 0
    assert not plan.new_userns


def test_new_pid_and_time_fork_after(config, compile_):
    set_namespaces(config, "pid", "mount", "time")
    config["linux"]["timeOffsets"] = {"monotonic": {"secs": 10, "nanosecs": 5}, "boottime": {"secs": -3}}
    plan = compile_(config)
    # clone() cannot make a time namespace: everything is unshared after it.
    assert plan.clone_flags == 0
    assert plan.unshare_flags == FLAGS["pid"] | FLAGS["mount"] | FLAGS["time"]
    assert plan.fork_after
    assert sorted(plan.timens_offsets.splitlines()) == ["boottime -3 0", "monotonic 10 5"]


def test_new_time_alone_forks_after(config, compile_):
    set_namespaces(config, "mount", "time")
    plan = compile_(config)
    assert plan.fork_after
    assert plan.timens_offsets is None


def test_new_user_namespace(config, compile_):
    config["linux"]["namespaces"].append({"type": "user"})
    config["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    config["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 65536}]
    plan = compile_(config)
    assert plan.new_userns
    assert plan.clone_flags & FLAGS["user"]
    assert plan.uid_mappings == config["linux"]["uidMappings"]
    assert plan.gid_mappings == config["linux"]["gidMappings"]
    # mknod is refused in a user namespace: devices are host nodes bound in.
    for st in steps_of(plan, "MKNOD"):
        assert st.bind == 1, st


def _open_fds():
    return set(os.listdir("/proc/self/fd"))


def test_join_wrong_type_names_field_and_leaks_no_fd(config, compile_):
    set_namespaces(config, "mount",
                   {"type": "user", "path": "/proc/self/ns/user"},
                   {"type": "ipc", "path": "/proc/self/ns/net"})
    before = _open_fds()
    with pytest.raises(ConfigError, match=r"linux\.namespaces\[2\]\.path: .*network namespace, not ipc"):
        compile_(config)
    assert _open_fds() == before


def test_join_missing_path(config, compile_):
    set_namespaces(config, "mount", {"type": "network", "path": "/nonexistent/ns"})
    with pytest.raises(ConfigError, match=r"linux\.namespaces\[1\]\.path: /nonexistent/ns: no such file"):
        compile_(config)


def test_join_not_a_namespace(config, compile_, tmp_path):
    path = tmp_path / "plain"
    path.write_text("x")
    set_namespaces(config, "mount", {"type": "uts", "path": str(path)})
    with pytest.raises(ConfigError, match=r"linux\.namespaces\[1\]\.path: .* is not a namespace"):
        compile_(config)


# -- step order and labels ----------------------------------------------------------

def test_step_order(config, compile_):
    plan = compile_(config)
    o = ops(plan)
    order = ["ROOT_PROPAGATION", "BIND_ROOTFS", "MOUNT", "MKNOD", "SYMLINK", "SYNC", "PIVOT_ROOT",
             "READONLY_PATH", "MASK_PATH", "REMOUNT_ROOT_RO", "SETRLIMIT", "KEEP_CAPS", "SETID", "CAPS",
             "NO_NEW_PRIVS", "UMASK", "CHDIR", "RESOLVE_EXEC", "WAIT_START", "EXEC"]
    positions = [o.index(op) for op in order]
    assert positions == sorted(positions), plan.describe()
    # All mounts, devices and links are made before the createRuntime sync and pivot_root.
    assert last(plan, "MOUNT") < first(plan, "MKNOD")
    assert last(plan, "MKNOD") < first(plan, "SYNC")
    assert last(plan, "SYMLINK") < first(plan, "SYNC") < first(plan, "PIVOT_ROOT")
    assert last(plan, "READONLY_PATH") < first(plan, "MASK_PATH")
    assert first(plan, "SETHOSTNAME") < first(plan, "SYNC")
    assert first(plan, "LOOPBACK_UP") < first(plan, "SYNC")
    assert o[-1] == "EXEC"
    assert o.count("WAIT_START") == 1 and o.count("EXEC") == 1 and o.count("PIVOT_ROOT") == 1


def test_labels_name_fields(config, compile_, bundle):
    plan = compile_(config)
    mounts = steps_of(plan, "MOUNT")
    assert mounts[0].label.startswith("mounts[0] /proc")
    assert (mounts[0].source, mounts[0].dest, mounts[0].fstype) == ("proc", "/proc", "proc")
    assert mounts[1].label.startswith("mounts[1] /dev")
    assert one(plan, "BIND_ROOTFS").rootfs == os.path.realpath(os.path.join(bundle, "rootfs"))
    assert one(plan, "PIVOT_ROOT").label.startswith("root.path ")
    assert steps_of(plan, "READONLY_PATH")[0].label.startswith("linux.readonlyPaths[0] /proc/bus")
    assert steps_of(plan, "MASK_PATH")[0].label.startswith("linux.maskedPaths[0] /proc/acpi")
    assert one(plan, "CHDIR").label.startswith("process.cwd /")
    assert one(plan, "RESOLVE_EXEC").label.startswith("process.args[0] sh")
    assert one(plan, "SETRLIMIT").label.startswith("process.rlimits[0] RLIMIT_NOFILE")
    assert one(plan, "SETHOSTNAME").name == "pyoci"
    assert one(plan, "EXEC").args == ["sh"]
    assert one(plan, "EXEC").env == config["process"]["env"]
    for st in plan.steps:
        assert st.label, st


def test_default_mount_flags(config, compile_):
    plan = compile_(config)
    by_dest = {st.dest: st for st in steps_of(plan, "MOUNT")}
    assert by_dest["/sys"].flags == m.MS_NOSUID | m.MS_NOEXEC | m.MS_NODEV | m.MS_RDONLY
    assert by_dest["/dev"].data == "mode=755,size=65536k"
    assert by_dest["/dev"].flags == m.MS_NOSUID | m.MS_STRICTATIME
    assert by_dest["/proc"].data is None


def test_resolve_exec_uses_config_path(config, compile_):
    config["process"]["env"] = ["PATH=/opt/bin:/bin", "A=1"]
    config["process"]["args"] = ["prog", "x"]
    plan = compile_(config)
    resolve = one(plan, "RESOLVE_EXEC")
    assert (resolve.program, resolve.path) == ("prog", "/opt/bin:/bin")
    assert one(plan, "EXEC").args == ["prog", "x"]


def test_no_readonly_root(config, compile_):
    config["root"]["readonly"] = False
    assert "REMOUNT_ROOT_RO" not in ops(compile_(config))


def test_sysctl_write(config, compile_):
    config["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1"}
    plan = compile_(config)
    st = one(plan, "WRITE_FILE")
    assert (st.path, st.content) == ("/proc/sys/net/ipv4/ip_forward", "1")
    assert st.label.startswith("linux.sysctl.net.ipv4.ip_forward")
    assert first(plan, "PIVOT_ROOT") < first(plan, "WRITE_FILE")


def test_domainname(config, compile_):
    config["domainname"] = "example.org"
    assert one(compile_(config), "SETDOMAINNAME").name == "example.org"


def test_no_hostname_no_step(config, compile_):
    del config["hostname"]
    assert "SETHOSTNAME" not in ops(compile_(config))


def test_keep_fds(config, compile_):
    assert compile_(config, keep_fds=3).keep_fds == 3


def test_no_process(config, compile_):
    del config["process"]
    plan = compile_(config)
    assert ops(plan)[-2:] == ["WAIT_START", "EXEC"]
    assert one(plan, "EXEC").args == []
    for op in ("CHDIR", "SETID", "CAPS", "RESOLVE_EXEC"):
        assert op not in ops(plan)


# -- mounts ---------------------------------------------------------------------

def test_readonly_bind_is_mount_plus_remount(config, compile_, bundle):
    src = os.path.join(bundle, "data")
    os.mkdir(src)
    config["mounts"].append({"destination": "/data", "type": "bind", "source": src,
                             "options": ["rbind", "ro", "nosuid"]})
    plan = compile_(config)
    mount = next(st for st in steps_of(plan, "MOUNT") if st.dest == "/data")
    assert mount.label.startswith("mounts[7] /data")
    assert (mount.flags, mount.is_file, mount.copy_up) == (m.MS_BIND | m.MS_REC, 0, 0)
    assert (mount.source, mount.dest, mount.fstype, mount.data) == (src, "/data", None, None)
    remount = next(st for st in steps_of(plan, "REMOUNT") if st.dest == "/data")
    assert remount.flags & m.MS_RDONLY
    assert remount.flags & m.MS_NOSUID
    assert not remount.flags & (m.MS_BIND | m.MS_REC)
    assert plan.steps.index(mount) + 1 == plan.steps.index(remount)


def test_bind_without_flags_has_no_remount(config, compile_, bundle):
    config["mounts"].append({"destination": "/data", "type": "none", "source": "rootfs", "options": ["bind"]})
    plan = compile_(config)
    mount = next(st for st in steps_of(plan, "MOUNT") if st.dest == "/data")
    # A relative source is relative to the bundle.
    assert mount.source == os.path.join(bundle, "rootfs")
    assert (mount.flags, mount.is_file, mount.copy_up) == (m.MS_BIND, 0, 0)
    assert not [st for st in steps_of(plan, "REMOUNT") if st.dest == "/data"]


def test_bind_of_a_file(config, compile_, bundle):
    src = os.path.join(bundle, "hosts")
    with open(src, "w") as f:
        f.write("127.0.0.1 localhost\n")
    config["mounts"].append({"destination": "/etc/hosts", "type": "bind", "source": src, "options": ["bind"]})
    mount = next(st for st in steps_of(compile_(config), "MOUNT") if st.dest == "/etc/hosts")
    assert (mount.flags, mount.is_file, mount.copy_up) == (m.MS_BIND, 1, 0)


def test_bind_source_missing(config, compile_):
    config["mounts"].append({"destination": "/data", "type": "bind", "source": "/nonexistent-src", "options": ["bind"]})
    with pytest.raises(ConfigError, match=r"mounts\[7\]\.source"):
        compile_(config)


@pytest.mark.parametrize("option,flag", [
    ("rprivate", m.MS_PRIVATE | m.MS_REC), ("private", m.MS_PRIVATE), ("rshared", m.MS_SHARED | m.MS_REC),
    ("slave", m.MS_SLAVE), ("runbindable", m.MS_UNBINDABLE | m.MS_REC),
])
def test_propagation_option(config, compile_, bundle, option, flag):
    config["mounts"].append({"destination": "/data", "type": "bind", "source": bundle, "options": ["rbind", option]})
    plan = compile_(config)
    st = one(plan, "PROPAGATE")
    assert (st.dest, st.flags) == ("/data", flag)
    assert st.label.startswith("mounts[7] /data")
    mount = next(s for s in steps_of(plan, "MOUNT") if s.dest == "/data")
    assert plan.steps.index(mount) < plan.steps.index(st)


def test_rro_is_setattr(config, compile_, bundle):
    config["mounts"].append({"destination": "/data", "type": "bind", "source": bundle,
                             "options": ["rbind", "rro", "rnosuid"]})
    st = one(compile_(config), "SETATTR")
    assert (st.attr_set, st.attr_clr, st.propagation) == (m.ATTR_RDONLY | m.ATTR_NOSUID, 0, 0)
    assert st.dest == "/data"


def test_cgroup_mount_hybrid(config, compile_):
    plan = compile_(config, hierarchies=HYBRID)
    cg = [st for st in plan.steps if st.label.startswith("mounts[6] /sys/fs/cgroup")]
    mounts = [st for st in cg if st.op == "MOUNT"]
    assert (mounts[0].source, mounts[0].dest, mounts[0].fstype, mounts[0].data) == (
        "tmpfs", "/sys/fs/cgroup", "tmpfs", "mode=755")
    assert not mounts[0].flags & m.MS_RDONLY  # the tmpfs is filled first, made read-only last
    binds = mounts[1:]
    assert len(binds) == len(HYBRID)
    dirs = dirs_for(HYBRID)
    for h, st in zip(HYBRID, binds):
        assert (st.source, st.dest) == (dirs[h.mountpoint],
                                        os.path.join("/sys/fs/cgroup", os.path.basename(h.mountpoint)))
        assert st.flags == m.MS_BIND
    remounts = [st for st in cg if st.op == "REMOUNT"]
    assert all(st.flags & m.MS_RDONLY for st in remounts)
    assert remounts[-1].dest == "/sys/fs/cgroup"


def test_cgroup_mount_unified(config, compile_):
    plan = compile_(config, hierarchies=UNIFIED)
    cg = [st for st in plan.steps if st.label.startswith("mounts[6] /sys/fs/cgroup")]
    assert [st.op for st in cg] == ["MOUNT", "REMOUNT"]
    assert (cg[0].source, cg[0].dest, cg[0].fstype, cg[0].data) == (
        dirs_for(UNIFIED)["/sys/fs/cgroup"], "/sys/fs/cgroup", None, None)
    assert cg[0].flags == m.MS_BIND
    assert cg[1].flags & m.MS_RDONLY


def test_rootfs_propagation(config, compile_):
    plan = compile_(config)
    assert steps_of(plan, "ROOT_PROPAGATION")[0].flags == m.MS_SLAVE | m.MS_REC  # runc's default: rslave
    assert "MAKE_PARENT_PRIVATE" not in ops(plan)
    config["linux"]["rootfsPropagation"] = "shared"
    plan = compile_(config)
    assert steps_of(plan, "ROOT_PROPAGATION")[0].flags == m.MS_SHARED | m.MS_REC
    assert first(plan, "MAKE_PARENT_PRIVATE") < first(plan, "BIND_ROOTFS")


def test_no_pivot_chroots(config, compile_, bundle):
    plan = compile_(config, no_pivot=True)
    assert "PIVOT_ROOT" not in ops(plan)
    st = one(plan, "CHROOT")
    assert st.rootfs == os.path.realpath(os.path.join(bundle, "rootfs"))
    assert first(plan, "SYNC") < first(plan, "CHROOT") < first(plan, "READONLY_PATH")


# -- devices --------------------------------------------------------------------------

def test_default_devices_and_links(config, compile_):
    plan = compile_(config)
    paths = [st.dest for st in steps_of(plan, "MKNOD")]
    assert paths == ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"]
    null = steps_of(plan, "MKNOD")[0]
    assert (null.mode, null.rdev) == (0o020000 | 0o666, os.makedev(1, 3))
    links = {st.link: st.target for st in steps_of(plan, "SYMLINK")}
    assert links["/dev/fd"] == "/proc/self/fd"
    assert links["/dev/ptmx"] == "pts/ptmx"


def test_configured_device(config, compile_):
    config["linux"]["devices"] = [
        {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o600, "uid": 1, "gid": 2},
        {"path": "/dev/null", "type": "c", "major": 1, "minor": 3, "fileMode": 0o640},
        {"path": "/dev/fifo", "type": "p"},
    ]
    plan = compile_(config)
    by_path = {st.dest: st for st in steps_of(plan, "MKNOD")}
    fuse = by_path["/dev/fuse"]
    assert (fuse.mode, fuse.rdev, fuse.uid, fuse.gid, fuse.bind) == (0o020000 | 0o600, os.makedev(10, 229), 1, 2, 0)
    assert by_path["/dev/fuse"].label.startswith("linux.devices[0] /dev/fuse")
    # The config's /dev/null replaces the default one.
    assert by_path["/dev/null"].mode == 0o020000 | 0o640
    assert [st.dest for st in steps_of(plan, "MKNOD")].count("/dev/null") == 1
    assert (by_path["/dev/fifo"].mode, by_path["/dev/fifo"].rdev) == (0o010000 | 0o666, 0)


def test_host_dev_bind_has_no_default_devices(config, compile_):
    config["mounts"][1] = {"destination": "/dev", "type": "bind", "source": "/dev", "options": ["rbind"]}
    plan = compile_(config)
    assert "MKNOD" not in ops(plan)
    assert "/dev/ptmx" not in [st.link for st in steps_of(plan, "SYMLINK")]


# -- process --------------------------------------------------------------------------

def test_terminal_console(config, compile_):
    assert "CONSOLE" not in ops(compile_(config))
    config["process"]["terminal"] = True
    config["process"]["consoleSize"] = {"height": 24, "width": 80}
    plan = compile_(config)
    assert (one(plan, "CONSOLE").rows, one(plan, "CONSOLE").cols) == (24, 80)
    assert first(plan, "PIVOT_ROOT") < first(plan, "CONSOLE") < first(plan, "SETID")


def test_no_new_privileges(config, compile_):
    assert "NO_NEW_PRIVS" in ops(compile_(config))
    config["process"]["noNewPrivileges"] = False
    assert "NO_NEW_PRIVS" not in ops(compile_(config))


def test_capability_masks(config, compile_):
    config["process"]["capabilities"] = {
        "bounding": ["CAP_KILL", "CAP_CHOWN"], "effective": ["CAP_KILL"], "permitted": ["kill", "CAP_NET_BIND_SERVICE"],
        "inheritable": ["CAP_NET_BIND_SERVICE"], "ambient": ["CAP_NET_BIND_SERVICE"],
    }
    plan = compile_(config)
    keep = one(plan, "KEEP_CAPS")
    assert keep.bounding == (1 << 5) | (1 << 0)
    assert caps_of(one(plan, "CAPS")) == (1 << 5, (1 << 5) | (1 << 10), 1 << 10, 1 << 10)


def test_ambient_capabilities_not_inheritable_are_dropped_as_runc_does(config, compile_):
    # `runc spec` writes ambient capabilities without inheritable ones.
    config["process"]["capabilities"] = {
        "bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"], "ambient": ["CAP_KILL"],
    }
    assert caps_of(one(compile_(config), "CAPS")) == (1 << 5, 1 << 5, 0, 0)


def test_capability_beyond_kernel_skipped(config, compile_, monkeypatch):
    from pyoci.security import capabilities

    monkeypatch.setattr(capabilities, "last_cap", lambda: 37)
    config["process"]["capabilities"] = {"bounding": ["CAP_KILL", "CAP_CHECKPOINT_RESTORE"]}
    keep = one(compile_(config), "KEEP_CAPS")
    assert (keep.bounding, keep.last_cap) == (1 << 5, 37)


def test_unknown_capability(config, compile_):
    config["process"]["capabilities"]["effective"] = ["CAP_TEST"]
    with pytest.raises(ConfigError, match=r"process\.capabilities\.effective: unknown capability 'CAP_TEST'"):
        compile_(config)


def test_rlimits(config, compile_):
    config["process"]["rlimits"] = [
        {"type": "RLIMIT_NOFILE", "soft": 100, "hard": 200},
        {"type": "RLIMIT_CORE", "soft": 0, "hard": 0},
    ]
    plan = compile_(config)
    assert [(st.resource, st.soft, st.hard) for st in steps_of(plan, "SETRLIMIT")] == [
        (resource.RLIMIT_NOFILE, 100, 200), (resource.RLIMIT_CORE, 0, 0)]
    assert resource.RLIMIT_NOFILE == 7 and resource.RLIMIT_CORE == 4


@pytest.mark.parametrize("rlimits,pattern", [
    ([{"type": "RLIMIT_NOFILE", "soft": 1, "hard": 1}] * 2, r"process\.rlimits\[1\]\.type: duplicate"),
    ([{"type": "RLIMIT_NOFILE", "soft": 2, "hard": 1}], r"process\.rlimits\[0\]: soft limit 2"),
    ([{"type": "RLIMIT_FOO", "soft": 1, "hard": 1}], r"process\.rlimits\[0\]\.type: unknown rlimit"),
])
def test_bad_rlimits(config, compile_, rlimits, pattern):
    config["process"]["rlimits"] = rlimits
    with pytest.raises(ConfigError, match=pattern):
        compile_(config)


def test_user_and_umask(config, compile_):
    config["process"]["user"] = {"uid": 1000, "gid": 100, "additionalGids": [5, 6], "umask": 0o077}
    plan = compile_(config)
    assert (one(plan, "SETID").uid, one(plan, "SETID").gid) == (1000, 100)
    assert one(plan, "SETGROUPS").gids == [5, 6]
    assert one(plan, "SETGROUPS").count == 2
    assert one(plan, "UMASK").mask == 0o077
    assert first(plan, "KEEP_CAPS") < first(plan, "SETGROUPS") < first(plan, "SETID") < first(plan, "CAPS")


def test_hooks_in_the_container(config, compile_):
    config["hooks"] = {
        "prestart": [{"path": "/bin/true"}],
        "createRuntime": [{"path": "/bin/true"}],
        "createContainer": [{"path": "/bin/cc", "args": ["cc", "-x"], "env": ["A=1"], "timeout": 5},
                            {"path": "/bin/cc2"}],
        "startContainer": [{"path": "/bin/sc"}],
        "poststart": [{"path": "/bin/true"}],
        "poststop": [{"path": "/bin/true"}],
    }
    plan = compile_(config)
    hooks = steps_of(plan, "HOOK")
    # prestart, createRuntime, poststart and poststop run in the runtime, not the shim.
    assert [h.path for h in hooks] == ["/bin/cc", "/bin/cc2", "/bin/sc"]
    cc, cc2, sc = hooks
    assert cc.label.startswith("hooks.createContainer[0] /bin/cc")
    assert cc2.label.startswith("hooks.createContainer[1] /bin/cc2")
    assert sc.label.startswith("hooks.startContainer[0] /bin/sc")
    assert cc.args == ["cc", "-x"] and cc.env == ["A=1"] and cc.timeout == 5
    assert cc2.args == ["/bin/cc2"] and cc2.env == [] and cc2.timeout == 0
    i = plan.steps.index
    assert first(plan, "SYNC") < i(cc) < i(cc2) < first(plan, "PIVOT_ROOT")
    assert first(plan, "WAIT_START") < i(sc) < first(plan, "EXEC")


# -- describe ------------------------------------------------------------------------

def test_describe(config, compile_):
    config["linux"]["namespaces"][1] = {"type": "network", "path": "/proc/self/ns/net"}
    plan = compile_(config, keep_fds=2)
    text = plan.describe()
    lines = text.splitlines()
    assert lines[0].startswith(f"clone_flags={plan.clone_flags:#x} unshare_flags={plan.unshare_flags:#x}")
    assert "fork_after=1" in lines[0] and "keep_fds=2" in lines[0]
    assert "join network /proc/self/ns/net" in lines
    assert len(lines) == 2 + len(plan.steps)
    assert "# mounts[0] /proc" in text
    assert "EXEC args=['sh']" in lines[-1]
    assert repr(plan.steps[0]).startswith("Step(")


def test_step_describe():
    st = Step("MOUNT", "mounts[0] /x: mount", source="src", dest="/x", fstype=None, flags=0x1000, is_file=0)
    assert st.describe() == "MOUNT source='src' dest='/x' flags=0x1000 is_file=0  # mounts[0] /x: mount"
    assert (st.data, st.copy_up) == (None, 0)  # not given: absent, 0
    with pytest.raises(TypeError, match="MOUNT has no field dst"):
        Step("MOUNT", "mounts[0] /x: mount", dst="/x")
    plan = Plan()
    plan.add("WAIT_START", "start")
    assert [s.op for s in plan.steps].index("WAIT_START") == 0
    assert plan.describe().splitlines()[1] == "  0 WAIT_START  # start"


# -- parse_options ---------------------------------------------------------------------

def test_parse_options_flags():
    p = m.parse_options(["ro", "nosuid", "nodev", "noexec", "relatime"], "mounts[0].options")
    assert p.flags == m.MS_RDONLY | m.MS_NOSUID | m.MS_NODEV | m.MS_NOEXEC | m.MS_RELATIME
    assert not p.is_bind
    assert p.data == [] and p.propagation == [] and (p.attr_set, p.attr_clr) == (0, 0)


def test_parse_options_clearing():
    p = m.parse_options(["ro", "rw", "nosuid", "suid", "exec"], "f")
    assert p.flags == 0
    assert p.cleared == m.MS_RDONLY | m.MS_NOSUID | m.MS_NOEXEC


def test_parse_options_bind_and_data():
    p = m.parse_options(["rbind", "mode=755", "size=1k", "defaults"], "f")
    assert p.is_bind
    assert p.flags == m.MS_BIND | m.MS_REC
    assert p.data == ["mode=755", "size=1k"]
    assert m.parse_options(["bind"], "f").flags == m.MS_BIND


def test_parse_options_propagation_and_recursive():
    p = m.parse_options(["rprivate", "shared", "rro", "rnoatime", "rrw"], "f")
    assert p.propagation == [m.MS_PRIVATE | m.MS_REC, m.MS_SHARED]
    assert p.attr_set & m.ATTR_NOATIME
    assert p.attr_clr & m.ATTR__ATIME
    assert p.attr_clr & m.ATTR_RDONLY


def test_tmpcopyup_marks_a_tmpfs_mount(config, compile_):
    config["mounts"].append({"destination": "/etc", "type": "tmpfs", "source": "tmpfs",
                             "options": ["tmpcopyup", "mode=755"]})
    mount = next(st for st in steps_of(compile_(config), "MOUNT") if st.dest == "/etc")
    assert mount.copy_up == 1
    assert mount.data == "mode=755"
    assert mount.label.endswith("(tmpcopyup)")


def test_tmpcopyup_needs_a_tmpfs(config, compile_):
    config["mounts"].append({"destination": "/data", "type": "bind", "source": "rootfs",
                             "options": ["rbind", "tmpcopyup"]})
    with pytest.raises(ConfigError, match=r"mounts\[7\]\.options: tmpcopyup needs a tmpfs mount"):
        compile_(config)


MAP = [{"containerID": 0, "hostID": 1000, "size": 10}]


@pytest.mark.parametrize("option, every_mount", [("idmap", 0), ("ridmap", 1)])
def test_an_idmapped_bind_is_attached_from_a_tree(config, compile_, bundle, option, every_mount):
    config["mounts"].append({"destination": "/data", "type": "bind", "source": bundle,
                             "options": ["rbind", option, "ro"], "uidMappings": MAP, "gidMappings": MAP})
    plan = compile_(config)
    step = next(st for st in steps_of(plan, "ATTACH_MOUNT") if st.dest == "/data")
    assert (step.source, step.uid_map, step.gid_map) == (bundle, "0 1000 10\n", "0 1000 10\n")
    assert (step.is_file, step.recursive, step.idmap_all) == (0, 1, every_mount)
    assert not [st for st in steps_of(plan, "MOUNT") if st.dest == "/data"]
    # Its flags still come as a remount after it.
    remount = next(st for st in steps_of(plan, "REMOUNT") if st.dest == "/data")
    assert plan.steps.index(step) < plan.steps.index(remount)


def test_idmap_takes_a_new_user_namespaces_mappings(config, compile_, bundle):
    config["linux"]["namespaces"].append({"type": "user"})
    config["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    config["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 65536}]
    config["mounts"].append({"destination": "/data", "type": "bind", "source": bundle, "options": ["bind", "idmap"]})
    step = next(st for st in steps_of(compile_(config), "ATTACH_MOUNT"))
    assert (step.uid_map, step.gid_map) == ("0 100000 65536\n", "0 200000 65536\n")


@pytest.mark.parametrize("mount, message", [
    ({"type": "bind", "options": ["bind", "idmap"]}, "idmap without uidMappings/gidMappings needs a user namespace"),
    ({"type": "tmpfs", "source": "tmpfs", "options": ["idmap"], "uidMappings": MAP, "gidMappings": MAP},
     "only a bind mount can be idmapped"),
    ({"type": "bind", "options": ["bind"], "uidMappings": MAP}, "uidMappings and gidMappings go together"),
])
def test_idmap_refusals(config, compile_, bundle, mount, message):
    mount = dict(mount, destination="/data")
    mount.setdefault("source", bundle)
    config["mounts"].append(mount)
    with pytest.raises(ConfigError, match=message):
        compile_(config)


# -- signals -----------------------------------------------------------------------------

@pytest.mark.parametrize("text,number", [
    ("TERM", signal.SIGTERM), ("SIGTERM", signal.SIGTERM), ("term", signal.SIGTERM), ("sigterm", signal.SIGTERM),
    ("0", 0), ("9", 9), ("KILL", 9), ("SIGHUP", 1), ("1", 1), ("64", 64),
    ("SIGRTMIN", signal.SIGRTMIN), ("SIGRTMIN+1", signal.SIGRTMIN + 1), ("RTMIN+2", signal.SIGRTMIN + 2),
    ("SIGRTMAX-1", signal.SIGRTMAX - 1), ("SIGRTMAX", signal.SIGRTMAX),
])
def test_parse_signal(text, number):
    from pyoci.runtime.kill import parse_signal

    assert parse_signal(text) == int(number)


@pytest.mark.parametrize("text", ["SIGFOO", "FOO", "", "65", "-1", "-9", "0x9", "9 ", "SIG", "SIGRTMIN+x",
                                  "SIGRTMAX-"])
def test_parse_signal_bad(text):
    from pyoci.runtime.kill import parse_signal

    with pytest.raises(PyociError, match="invalid signal"):
        parse_signal(text)


@pytest.mark.parametrize("text", ["SIGRTMIN+100", "SIGRTMAX-100", "SIGRTMIN+-1", "SIGRTMAX--1"])
def test_parse_signal_realtime_out_of_range(text):
    from pyoci.runtime.kill import parse_signal

    with pytest.raises(PyociError, match="invalid signal"):
        parse_signal(text)


# -- close_ranges (needs the built shim) ------------------------------------------------

@pytest.fixture
def native():
    return pytest.importorskip("pyoci.launch.native", reason="the C shim is not built")


LIMIT = 0xFFFFFFFF


@pytest.mark.parametrize("keep,ranges", [
    (set(), [(0, LIMIT)]),
    ({0, 1, 2}, [(3, LIMIT)]),
    ({0, 1, 2, 5}, [(3, 4), (6, LIMIT)]),
    ({5}, [(0, 4), (6, LIMIT)]),
    ({0, 1, 2, 3, 7, 8, 10}, [(4, 6), (9, 9), (11, LIMIT)]),
])
def test_close_ranges(native, keep, ranges):
    assert native.close_ranges(keep) == ranges


def test_close_ranges_limit_and_iterables(native):
    assert native.close_ranges([2, 0, 1], limit=99) == [(3, 99)]


def test_close_ranges_too_many(native):
    keep = set(range(3, 3 + 2 * 20, 2))  # every other fd: one gap each
    with pytest.raises(OSError):
        native.close_ranges(keep)


# -- state: atomic_write, process_start_time -----------------------------------------------

def test_atomic_write(tmp_path):
    from pyoci.state import atomic_write

    path = str(tmp_path / "state.json")
    atomic_write(path, "first")
    assert open(path).read() == "first"
    assert os.stat(path).st_mode & 0o777 == 0o600
    atomic_write(path, b"\x00second", 0o644)  # replaces, bytes too
    with open(path, "rb") as f:
        assert f.read() == b"\x00second"
    assert os.listdir(tmp_path) == ["state.json"]  # no temp file left


def test_atomic_write_replaces_atomically(tmp_path):
    """A reader holding the old file keeps seeing the old contents."""
    from pyoci.state import atomic_write

    path = str(tmp_path / "f")
    atomic_write(path, "old")
    with open(path) as reader:
        atomic_write(path, "new")
        assert reader.read() == "old"
    assert open(path).read() == "new"


def test_process_start_time_self():
    from pyoci.core.procfs import process_start_time

    started, state = process_start_time(os.getpid())
    assert isinstance(started, int) and started > 0
    assert state == "R"
    assert process_start_time(os.getpid())[0] == started


def test_process_start_time_gone():
    from pyoci.core.procfs import process_start_time

    proc = subprocess.Popen(["true"])
    proc.wait()
    assert process_start_time(proc.pid) is None


def test_process_start_time_odd_comm(tmp_path):
    """comm may hold spaces and parentheses."""
    from pyoci.core.procfs import process_start_time

    sleep = shutil.which("sleep")
    if sleep is None:
        pytest.skip("no sleep(1)")
    odd = tmp_path / "a) (b c)"
    shutil.copy(sleep, odd)
    proc = subprocess.Popen([str(odd), "30"])
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with open(f"/proc/{proc.pid}/comm") as f:
                if f.read().strip() == odd.name:
                    break
            time.sleep(0.01)
        started, state = process_start_time(proc.pid)
        assert state in ("S", "R")
        assert started >= process_start_time(os.getpid())[0]
    finally:
        proc.kill()
        proc.wait()


# -- CLI global flags --------------------------------------------------------------------

def parse(*argv):
    from pyoci.cli import parse_globals

    return parse_globals(list(argv))


def test_globals_root_forms():
    ctx, rest = parse("--root=/x", "state", "id")
    assert ctx.root == "/x" and rest == ["state", "id"]
    ctx, rest = parse("--root", "/x", "state", "id")
    assert ctx.root == "/x" and rest == ["state", "id"]
    ctx, rest = parse("-root", "/y", "list")
    assert ctx.root == "/y" and rest == ["list"]


def test_globals_root_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ctx, _ = parse("--root", "state-dir", "list")
    assert ctx.root == os.path.join(str(tmp_path), "state-dir")


def test_globals_default_root(monkeypatch):
    monkeypatch.delitem(posix.environ, b"XDG_RUNTIME_DIR", raising=False)
    ctx, rest = parse("list")
    assert ctx.root == "/run/pyoci"
    assert rest == ["list"]
    assert ctx.log_format == "text" and ctx.rootless == "auto" and not ctx.systemd_cgroup and not ctx.debug


def test_globals_log_flags():
    ctx, rest = parse("--log-format=json", "--log", "/tmp/x.log", "--debug", "list")
    assert ctx.log_format == "json" and ctx.log_path == "/tmp/x.log" and ctx.debug
    assert rest == ["list"]


def test_globals_rootless():
    assert parse("--rootless=true", "list")[0].rootless == "true"
    assert parse("--rootless", "false", "list")[0].rootless == "false"
    ctx, rest = parse("--rootless", "list")  # bare: true, and "list" is the command
    assert ctx.rootless == "true" and rest == ["list"]


def test_globals_systemd_cgroup_and_ignored():
    ctx, rest = parse("--systemd-cgroup", "--criu", "/usr/sbin/criu", "state", "x")
    assert ctx.systemd_cgroup
    assert rest == ["state", "x"]


def test_globals_stop_at_command():
    ctx, rest = parse("create", "--root", "/z", "id")
    assert rest == ["create", "--root", "/z", "id"]
    assert ctx.root != "/z"


def test_globals_version_help():
    assert parse("--version")[0].show_version
    assert parse("-v")[0].show_version
    assert parse("--help")[0].show_help


@pytest.mark.parametrize("argv,pattern", [
    (["--bogus", "list"], "--bogus"),
    (["--bogus=1", "list"], "--bogus"),
    (["--log-format", "xml", "list"], "--log-format"),
    (["--log-format=xml"], "--log-format"),
    (["--rootless=maybe", "list"], "--rootless"),
    (["--root"], "--root"),
    (["--log"], "--log"),
])
def test_globals_errors(argv, pattern):
    with pytest.raises(PyociError, match=pattern):
        parse(*argv)


def test_without_a_mount_namespace_the_host_is_never_repropagated_or_pivoted(config, compile_):
    set_namespaces(config, "pid")
    config["root"]["readonly"] = False
    plan = compile_(config)
    assert not plan.own_mount_ns
    assert "ROOT_PROPAGATION" not in ops(plan) and "PIVOT_ROOT" not in ops(plan)
    chroot = next(s for s in plan.steps if s.op == "CHROOT")
    assert chroot.move == 0, "chroot only: no move of the rootfs onto the host's /"
    bind = next(s for s in plan.steps if s.op == "BIND_ROOTFS")
    assert bind.bind == 0, "no bind of the rootfs unless it must be read-only"


def test_seccomp_loads_late_with_no_new_privs_and_early_without(config, compile_):
    pytest.importorskip("pyoci.security.libseccomp", reason="the libseccomp extension is not built")
    config["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW",
                                  "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO"}]}
    config["process"]["noNewPrivileges"] = True
    late = ops(compile_(config))
    assert late.index("SECCOMP") == late.index("EXEC") - 1, "right before execve"
    assert late.index("CLOSE_ON_EXEC") < late.index("SECCOMP"), "fd work done while the filter cannot refuse it"
    config["process"]["noNewPrivileges"] = False
    early = ops(compile_(config))
    assert early.index("SECCOMP") < early.index("KEEP_CAPS"), "loaded while CAP_SYS_ADMIN is still there"
    assert early.index("CLOSE_ON_EXEC") < early.index("SECCOMP") and early.count("CLOSE_ON_EXEC") == 1


# -- AppArmor --------------------------------------------------------------------------------

def test_apparmor_profile_is_written_before_the_uid_switch(config, compile_, monkeypatch):
    from pyoci.security import apparmor

    monkeypatch.setattr(apparmor, "enabled", lambda: True)
    config["process"]["apparmorProfile"] = "containers-default-0.50.1"
    plan = compile_(config)
    step = next(st for st in steps_of(plan, "WRITE_FILE") if st.label.startswith("process.apparmorProfile"))
    assert step.path in (apparmor.OWN_ATTR, apparmor.SHARED_ATTR)
    assert step.content == "exec containers-default-0.50.1"
    assert plan.steps.index(step) < first(plan, "KEEP_CAPS") < first(plan, "SETID")
    assert plan.steps.index(step) > first(plan, "PIVOT_ROOT")


def test_apparmor_profile_without_apparmor_is_refused(config, compile_, monkeypatch):
    from pyoci.security import apparmor

    monkeypatch.setattr(apparmor, "enabled", lambda: False)
    config["process"]["apparmorProfile"] = "acme"
    with pytest.raises(ConfigError, match="process.apparmorProfile: AppArmor is not enabled on this host"):
        compile_(config)
