"""Unit tests of what changes for an unprivileged caller: the rootless
detection and default --root (pyoci.rootless, pyoci.cli), `spec --rootless`
(pyoci.spec.default), the id-map decisions (pyoci.runtime.idmap) and the
cgroups a rootless container may use (pyoci.cgroups.delegation).  The ids
and namespaces of the caller are faked; no root needed."""
import posix

import pytest

from pyoci import rootless
from pyoci.core import paths
from pyoci.cgroups import Hierarchy, delegation
from pyoci.cli import parse_globals, xdg_root
from pyoci.core.errors import ConfigError
from pyoci.runtime import idmap
from pyoci.spec.default import default_config


class Recorder:
    def __init__(self):
        self.records = []

    def debug(self, msg):
        self.records.append(("debug", msg))

    def warning(self, msg):
        self.records.append(("warning", msg))


@pytest.fixture
def caller(monkeypatch):
    """caller(euid, in_userns=False, user=None): fake who runs pyoci."""
    def fake(euid, in_userns=False, user=None, egid=None):
        monkeypatch.setattr(posix, "geteuid", lambda: euid)
        monkeypatch.setattr(posix, "getegid", lambda: euid if egid is None else egid)
        monkeypatch.setattr(rootless, "in_user_namespace", lambda: in_userns)
        if user is None:
            monkeypatch.delitem(posix.environ, b"USER", raising=False)
        else:
            monkeypatch.setitem(posix.environ, b"USER", user.encode())
    return fake


# -- detection and the default --root -------------------------------------------


@pytest.mark.parametrize("euid, in_userns, expected", [(1000, False, True), (0, False, False), (0, True, True)])
def test_auto_skips_cgroups_when_unprivileged_or_in_a_user_namespace(caller, euid, in_userns, expected):
    caller(euid, in_userns)
    assert rootless.skips_cgroups("auto") is expected
    assert rootless.skips_cgroups("true") and not rootless.skips_cgroups("false")


@pytest.mark.parametrize("euid, in_userns, user, expected", [
    (1000, False, "alice", True), (0, False, None, False), (0, True, "root", False),
    (0, True, "alice", True), (0, True, None, True)])
def test_xdg_runtime_dir_honoured_as_runc_does(caller, monkeypatch, euid, in_userns, user, expected):
    caller(euid, in_userns, user)
    monkeypatch.setitem(posix.environ, b"XDG_RUNTIME_DIR", b"/run/user/1000")
    assert rootless.honor_xdg_runtime_dir() is expected
    ctx, _ = parse_globals(["list"])
    assert ctx.root == ("/run/user/1000/pyoci" if expected else "/run/pyoci")
    assert ctx.root_in_xdg is expected
    assert parse_globals(["--root", "/x", "list"])[0].root_in_xdg is False


def test_no_xdg_runtime_dir_means_run_pyoci(caller, monkeypatch):
    caller(1000)
    monkeypatch.delitem(posix.environ, b"XDG_RUNTIME_DIR", raising=False)
    assert xdg_root() is None
    assert parse_globals(["list"])[0].root == "/run/pyoci"


def test_xdg_root_made_sticky(tmp_path):
    root = tmp_path / "xdg" / "pyoci"
    rootless.make_xdg_root(str(root))
    assert root.stat().st_mode & 0o7777 == 0o1700


# -- create's checks for an unprivileged caller ------------------------------------


def rootless_config(uid=1000):
    return default_config(True, uid, uid)


def test_rootless_config_passes(caller):
    caller(1000)
    rootless.check_config(rootless_config())


def test_rootless_needs_a_user_namespace(caller):
    caller(1000)
    config = rootless_config()
    config["linux"]["namespaces"] = [ns for ns in config["linux"]["namespaces"] if ns["type"] != "user"]
    with pytest.raises(ConfigError, match=r"linux.namespaces: a rootless container \(euid 1000\) needs a user namespace"):
        rootless.check_config(config)


def test_rootless_new_user_namespace_needs_mappings(caller):
    caller(1000)
    config = rootless_config()
    del config["linux"]["gidMappings"]
    with pytest.raises(ConfigError, match="linux.gidMappings: a rootless container needs at least one mapping"):
        rootless.check_config(config)
    config["linux"]["namespaces"][-1]["path"] = "/proc/1/ns/user"
    rootless.check_config(config)  # joined: mapped by its owner


def test_rootless_mount_ids_must_be_mapped(caller):
    caller(1000)
    config = rootless_config()
    config["mounts"][2]["options"].append("gid=5")
    with pytest.raises(ConfigError, match=r"mounts\[2\].options: gid=5: gid 5 is not mapped in the container"):
        rootless.check_config(config)
    config["linux"]["gidMappings"].append({"containerID": 1, "hostID": 100000, "size": 65536})
    rootless.check_config(config)


# -- spec --rootless ----------------------------------------------------------------


def test_spec_rootless_as_runc_writes_it():
    config = default_config(True, 1000, 1001)
    linux = config["linux"]
    kinds = [ns["type"] for ns in linux["namespaces"]]
    assert kinds.count("user") == 1 and "network" not in kinds
    assert linux["uidMappings"] == [{"containerID": 0, "hostID": 1000, "size": 1}]
    assert linux["gidMappings"] == [{"containerID": 0, "hostID": 1001, "size": 1}]
    assert "resources" not in linux
    mounts = {m["destination"]: m for m in config["mounts"]}
    assert mounts["/sys"] == {"destination": "/sys", "type": "none", "source": "/sys",
                              "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]}
    assert mounts["/sys/fs/cgroup"]["type"] == "cgroup"  # kept, as runc keeps it
    assert not [o for m in config["mounts"] for o in m.get("options", []) if o.startswith(("uid=", "gid="))]


# -- id maps --------------------------------------------------------------------------

OWN = [{"containerID": 0, "hostID": 1000, "size": 1}]
RANGE = OWN + [{"containerID": 1, "hostID": 100000, "size": 65536}]


def test_only_the_own_id_is_written_without_a_helper():
    assert idmap.own_id_only(OWN, 1000)
    assert not idmap.own_id_only(OWN, 1001)
    assert not idmap.own_id_only(RANGE, 1000)


def test_setgroups_denied_only_for_an_unprivileged_own_gid_map(caller):
    caller(1000)
    assert idmap.denies_setgroups(OWN)
    assert not idmap.denies_setgroups(RANGE)  # newgidmap decides
    caller(0)
    assert not idmap.denies_setgroups(OWN)


def test_additional_gids_need_setgroups(caller):
    caller(1000)
    log = Recorder()
    config = rootless_config()
    config["process"]["user"]["additionalGids"] = [7]
    assert not idmap.init_may_setgroups(config, log)
    assert log.records and "additionalGids" in log.records[0][1]
    config["linux"]["gidMappings"] = RANGE
    assert idmap.init_may_setgroups(config, Recorder())


def test_root_may_setgroups_unless_its_user_namespace_denies_it(caller, monkeypatch):
    denied = {"self": True}
    monkeypatch.setattr(idmap, "setgroups_allowed", lambda: not denied["self"])
    caller(0)
    assert idmap.init_may_setgroups(rootless_config(), Recorder())  # the initial namespace: always
    caller(0, in_userns=True)
    assert not idmap.init_may_setgroups(rootless_config(), Recorder())
    denied["self"] = False
    assert idmap.init_may_setgroups(rootless_config(), Recorder())


def test_a_helper_runs_with_its_output_captured_and_none_of_our_descriptors():
    inherited_r, inherited_w = posix.pipe()
    posix.set_inheritable(inherited_w, True)  # as a --preserve-fds descriptor is
    try:
        status, output = idmap._run(["/bin/sh", "-c", "ls /proc/self/fd; echo to stderr >&2; exit 3"])
    finally:
        posix.close(inherited_r)
        posix.close(inherited_w)
    words = output.decode().split()
    assert status == 3 and "stderr" in words
    # 0-2 and the one ls reads /proc/self/fd through: not the inherited pipe
    assert len([word for word in words if word.isdigit()]) == 4, words


def test_helper_found_on_a_default_path_without_path(monkeypatch, tmp_path):
    helper = tmp_path / "newuidmap"
    helper.write_text("#!/bin/sh\n")
    helper.chmod(0o755)
    monkeypatch.setitem(posix.environ, b"PATH", str(tmp_path).encode())
    assert paths.which("newuidmap") == str(helper)
    monkeypatch.setitem(posix.environ, b"PATH", b"")
    assert paths.which("newuidmap") != str(helper)
    monkeypatch.setattr(paths, "DEFAULT_PATH", str(tmp_path))
    assert paths.which("newuidmap") == str(helper)
    assert paths.which("no-such-helper-anywhere") is None


# -- cgroups only where delegated -------------------------------------------------


@pytest.fixture
def hybrid(monkeypatch):
    """memory and cpu v1 hierarchies and cgroup2; only memory is usable."""
    found = [Hierarchy("/cg/memory", frozenset({"memory"}), False), Hierarchy("/cg/cpu", frozenset({"cpu"}), False),
             Hierarchy("/cg/unified", frozenset(), True)]
    dirs = {h.mountpoint: h.mountpoint + "/user/c1" for h in found}
    monkeypatch.setattr(delegation, "may_use", lambda d: d.startswith("/cg/memory"))
    monkeypatch.setattr(delegation, "own_cgroups", lambda: {"memory": "/user", "cpu": "/user", "": "/user"})
    monkeypatch.setattr(rootless, "privileged", lambda: False)
    return found, dirs


def test_cgroups_the_caller_may_not_use_are_skipped(hybrid):
    found, dirs = hybrid
    log = Recorder()
    usable, shown, resources = delegation.narrow(dirs, found, {"resources": {"memory": {"limit": 1 << 26}}}, log)
    assert usable == {"/cg/memory": "/cg/memory/user/c1"}
    assert shown == {"/cg/memory": "/cg/memory/user/c1", "/cg/cpu": "/cg/cpu/user", "/cg/unified": "/cg/unified/user"}
    assert resources == {"memory": {"limit": 1 << 26}}
    assert [level for level, msg in log.records if "skipped" in msg] == ["debug", "debug"]


def test_a_limit_in_a_skipped_cgroup_is_an_error(hybrid):
    found, dirs = hybrid
    with pytest.raises(ConfigError, match=r"linux.resources.cpu: a rootless container cannot set it: .* its cgroup in /cg/cpu "):
        delegation.narrow(dirs, found, {"resources": {"cpu": {"shares": 512}}}, Recorder())
    with pytest.raises(ConfigError, match="linux.resources.hugepageLimits: .* /cg/unified "):
        delegation.narrow(dirs, found, {"resources": {"hugepageLimits": [{"pageSize": "2MB", "limit": 0}]}}, Recorder())


def test_device_rules_left_out_for_the_unprivileged(hybrid):
    found, dirs = hybrid
    log = Recorder()
    _usable, _shown, resources = delegation.narrow(dirs, found, {"resources": {"devices": [{"allow": False}]}}, log)
    assert resources == {}
    assert any("linux.resources.devices" in msg for _level, msg in log.records)


def test_cgroups_path_nothing_may_use_is_an_error(hybrid, monkeypatch):
    found, dirs = hybrid
    monkeypatch.setattr(delegation, "may_use", lambda d: False)
    with pytest.raises(ConfigError, match="linux.cgroupsPath: /x: permission denied in every cgroup hierarchy"):
        delegation.narrow(dirs, found, {"cgroupsPath": "/x"}, Recorder())
    log = Recorder()
    usable, _shown, _resources = delegation.narrow(dirs, found, {"namespaces": [{"type": "pid"}]}, log)
    assert usable == {} and not [msg for level, msg in log.records if level == "warning"]
    delegation.narrow(dirs, found, {"namespaces": []}, log)
    assert [msg for level, msg in log.records if level == "warning"]  # no pid namespace and no cgroup


def test_may_use_an_existing_cgroup_or_a_writable_ancestor(tmp_path):
    cgroup = tmp_path / "a"
    cgroup.mkdir()
    (cgroup / "cgroup.procs").write_text("")
    assert delegation.may_use(str(cgroup))
    assert delegation.may_use(str(cgroup / "b" / "c"))
