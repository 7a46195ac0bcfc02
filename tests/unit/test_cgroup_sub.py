"""exec --cgroup's arguments and the directories they choose (pyoci.cgroups.sub)."""
import pytest

from pyoci.cgroups import Hierarchy
from pyoci.cgroups.sub import parse, sub_cgroup_dirs
from pyoci.core.errors import PyociError


def test_parse_controllers_and_a_lone_path():
    assert parse(["cpu,cpuacct:a", "memory:/b"]) == {"cpu": "a", "cpuacct": "a", "memory": "/b"}
    assert parse(["a/b"]) == {"": "a/b"}


@pytest.mark.parametrize("specs, message", [
    (["a", "memory:b"], "--cgroup a: needs a controller: prefix"),
    ([",memory:b"], "empty controller name"),
    (["memory:a", "cpu,memory:b"], "controller memory given more than once"),
])
def test_parse_refuses(specs, message):
    with pytest.raises(PyociError, match=message):
        parse(specs)


@pytest.fixture
def hybrid(tmp_path):
    """A container's cgroups in three hierarchies, with sub-cgroup "s" in each."""
    found = [Hierarchy(str(tmp_path / "cpu,cpuacct"), frozenset({"cpu", "cpuacct"}), False),
             Hierarchy(str(tmp_path / "memory"), frozenset({"memory"}), False),
             Hierarchy(str(tmp_path / "unified"), frozenset(), True)]
    dirs = {h.mountpoint: f"{h.mountpoint}/c1" for h in found}
    for d in dirs.values():
        (tmp_path / d / "s").mkdir(parents=True)
    return found, dirs


def test_a_controller_moves_only_its_hierarchy(hybrid):
    found, dirs = hybrid
    chosen = sub_cgroup_dirs(["cpu:s"], dirs, found)
    assert chosen == dict(dirs, **{found[0].mountpoint: dirs[found[0].mountpoint] + "/s"})


def test_a_lone_path_moves_every_hierarchy(hybrid):
    found, dirs = hybrid
    assert sub_cgroup_dirs(["/s"], dirs, found) == {m: d + "/s" for m, d in dirs.items()}


@pytest.mark.parametrize("specs, message", [
    (["missing"], "--cgroup missing: .*/c1/missing: no such cgroup"),
    (["s/../.."], "not a sub-cgroup of the container's"),
    (["cpu:s", "cpuacct:s/x"], "cpu,cpuacct share a hierarchy but were given different paths"),
    (["rdma:s"], "no cgroup for controller rdma"),
])
def test_sub_cgroup_dirs_refuse(hybrid, specs, message):
    found, dirs = hybrid
    with pytest.raises(PyociError, match=message):
        sub_cgroup_dirs(specs, dirs, found)
