"""Where cgroups go and which existing cgroups pyoci may write
(pyoci.cgroups.resolve, create, remove_made, kill_all and
pyoci.cgroups.resources.hand_down / v2_dir_for), on stand-in trees of
plain files.  The real kernel's answers are in
tests/integration/test_cgroup_placement.py, in the v2 lane."""
import os

import pytest

from pyoci import cgroups
from pyoci.cgroups import Hierarchy, resources
from pyoci.core.errors import ConfigError, PyociError


def v2_tree(tmp_path, layout):
    """A cgroup2 stand-in: layout maps a relative cgroup ("" is the root) to
    (controllers, subtree_control, procs, type)."""
    root = str(tmp_path / "cg")
    for rel, (available, enabled, procs, kind) in layout.items():
        d = os.path.join(root, rel) if rel else root
        os.makedirs(d, exist_ok=True)
        for name, value in (("cgroup.controllers", available), ("cgroup.subtree_control", enabled),
                            ("cgroup.procs", procs), ("cgroup.type", kind)):
            if rel or name != "cgroup.type":
                with open(os.path.join(d, name), "w") as f:
                    f.write(value)
    return root, [Hierarchy(root, frozenset(), True)]


@pytest.mark.parametrize("v2, expected", [(True, "/user.slice/c1"), (False, "/user.slice/session-1.scope/c1")])
def test_a_relative_path_starts_at_our_parent_on_v2_and_at_our_cgroup_on_v1(monkeypatch, v2, expected):
    found = [Hierarchy("/cg", frozenset() if v2 else frozenset({"memory"}), v2)]
    own = "/user.slice/session-1.scope"
    monkeypatch.setattr(cgroups, "own_cgroups", lambda: {"": own, "memory": own})
    assert cgroups.resolve("c1", "id", found) == {"/cg": "/cg" + expected}
    assert cgroups.resolve(None, "c1", found) == {"/cg": "/cg" + expected}
    assert cgroups.resolve("/abs/c1", "id", found) == {"/cg": "/cg/abs/c1"}


def test_a_caller_in_the_root_places_relative_paths_in_the_root(monkeypatch):
    monkeypatch.setattr(cgroups, "own_cgroups", lambda: {"": "/"})
    assert cgroups.resolve("c1", "id", [Hierarchy("/cg", frozenset(), True)]) == {"/cg": "/cg/c1"}


@pytest.mark.parametrize("path, expected", [
    ("/../../../etc/cron.d", "/cg/etc/cron.d"),  # ".." stops at the hierarchy's root
    ("/a/../../b", "/cg/b"),
    ("../../../x", "/cg/user.slice/x"),  # relative: cleaned as rooted, then under the base
    ("//a//b/", "/cg/a/b"),
])
def test_a_cgroups_path_never_leaves_the_hierarchy(monkeypatch, path, expected):
    monkeypatch.setattr(cgroups, "own_cgroups", lambda: {"": "/user.slice/session-1.scope"})
    assert cgroups.resolve(path, "id", [Hierarchy("/cg", frozenset(), True)]) == {"/cg": expected}


@pytest.mark.parametrize("path, own", [("/", "/x"), ("/..", "/x"), ("/a/..", "/x"), ("..", "/x"), (".", "/x")])
def test_a_cgroups_path_naming_the_root_is_refused(monkeypatch, path, own):
    monkeypatch.setattr(cgroups, "own_cgroups", lambda: {"": own})
    with pytest.raises(PyociError, match="linux.cgroupsPath: .* is the root of the cgroup hierarchy at /cg"):
        cgroups.resolve(path, "id", [Hierarchy("/cg", frozenset(), True)])


@pytest.mark.parametrize("path", ["system.slice:../..:x", "a/b.slice:p:x", "system.slice:p:../../x", "system.slice:p:a/b"])
def test_a_systemd_path_part_is_a_name(path):
    with pytest.raises(PyociError, match="linux.cgroupsPath"):
        cgroups.resolve(path, "id", [Hierarchy("/cg", frozenset(), True)], systemd=True)


def test_cgroup_files_are_written_never_created(tmp_path):
    with pytest.raises(FileNotFoundError):
        cgroups.write_file(str(tmp_path / "cgroup.procs"), 1)
    assert os.listdir(tmp_path) == []
    os.symlink("/etc/hostname", tmp_path / "cgroup.procs")
    with pytest.raises(OSError):  # ELOOP: a link is not a cgroup's file
        cgroups.write_file(str(tmp_path / "cgroup.procs"), 1)


def test_the_parents_create_makes_are_planned_first_and_removal_spares_a_busy_one(tmp_path):
    root = str(tmp_path / "cg")
    os.mkdir(root)
    found = [Hierarchy(root, frozenset(), True)]
    first = {root: f"{root}/pod/a"}
    made = cgroups.missing(first, found)
    assert made == [f"{root}/pod/a", f"{root}/pod"] and os.listdir(root) == []
    cgroups.create(first, found, made)
    assert os.listdir(f"{root}/pod") == ["a"]
    neighbour = {root: f"{root}/pod/b"}
    cgroups.create(neighbour, found, cgroups.missing(neighbour, found))  # under the same parent
    cgroups.remove_made(made, first)
    assert sorted(os.listdir(root)) == ["pod"] and os.listdir(f"{root}/pod") == ["b"]
    os.rmdir(f"{root}/pod/b")
    cgroups.remove_made(made, first)
    assert os.listdir(root) == []


def test_kill_all_writes_cgroup_kill_where_there_is_one(tmp_path):
    v1, v2 = tmp_path / "memory", tmp_path / "unified"
    v1.mkdir()
    v2.mkdir()
    (v2 / "cgroup.kill").write_text("")
    assert cgroups.kill_all({"m": str(v1), "u": str(v2)})
    assert (v2 / "cgroup.kill").read_text() == "1"
    assert not cgroups.kill_all({"m": str(v1)})


SCOPE = ("memory pids", "", "4242\n", "domain")


def test_hand_down_writes_only_the_root_and_what_pyoci_made(tmp_path):
    root, found = v2_tree(tmp_path, {"": ("memory pids", "", "1\n", None),
                                     "user.slice": ("memory pids", "", "", "domain"),
                                     "user.slice/made": ("", "", "", "domain")})
    resources.hand_down({"pids": {"limit": 5}}, {root: f"{root}/user.slice/made/c1"}, found,
                        made=[f"{root}/user.slice/made/c1", f"{root}/user.slice/made"])
    assert open(f"{root}/cgroup.subtree_control").read() == "+pids"
    assert open(f"{root}/user.slice/cgroup.subtree_control").read() == ""  # not ours: untouched
    # made's cgroup.controllers (a plain file here) does not offer pids, so nothing is written there.
    assert open(f"{root}/user.slice/made/cgroup.subtree_control").read() == ""


@pytest.mark.parametrize("layout, message", [
    ({"scope": SCOPE}, "cgroup {root}/scope holds processes, and cgroup v2 lets no cgroup with processes "
                       "enable controllers for its children (the no-internal-process rule)"),
    ({"scope": ("memory pids", "", "", "domain threaded")}, "cgroup {root}/scope is domain threaded"),
    ({"scope": ("memory pids", "", "", "domain")}, "cgroup {root}/scope does not enable it for its children"),
])
def test_a_controller_held_back_names_the_cgroup_and_the_rule(tmp_path, layout, message):
    root, found = v2_tree(tmp_path, {"": ("memory pids", "memory pids", "1\n", None), **layout,
                                     "scope/c1": ("", "", "", "domain")})
    with pytest.raises(ConfigError) as e:
        resources.apply({"pids": {"limit": 5}}, {root: f"{root}/scope/c1"}, found, made=[f"{root}/scope/c1"])
    assert str(e.value).startswith("linux.resources.pids: the pids controller does not reach the container's cgroup")
    assert message.format(root=root) in str(e.value)
    assert open(f"{root}/scope/cgroup.subtree_control").read() == ""


@pytest.mark.parametrize("layout, errno, said", [
    (("", "pids memory", "", "domain"), 16, "(it enables pids memory for its children, and cgroup v2 lets no such "
                                            "cgroup hold processes: the no-internal-process rule)"),
    (("", "", "", "domain invalid"), 95, "(it is domain invalid: only a domain or threaded cgroup takes processes"),
    (("", "", "", "domain"), 13, ""),
])
def test_a_refused_join_names_the_v2_rule(tmp_path, layout, errno, said):
    root, _found = v2_tree(tmp_path, {"": ("", "", "", None), "c1": layout})
    found = cgroups._join_refused_because(f"{root}/c1", errno)
    assert (said in found) if said else found == ""
    assert cgroups._join_refused_because(str(tmp_path), errno) == ""  # v1: no cgroup.type
