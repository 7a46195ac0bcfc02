"""Where a container's cgroup goes on a pure cgroup v2 host, and what pyoci
may touch on the way (create, delete).

These run where the caller sits as on a systemd host: in a populated,
non-root cgroup2 leaf (a session scope), with the controllers handed down
to its parent.  The v2 lane (scripts/test-v2.sh) lays the guest out so; a
host with v1 controllers, or a caller in the root cgroup, skips them.

Each checks from the host's cgroupfs: the init's /proc/PID/cgroup, the
limit's file, and that no cgroup pyoci did not make (the caller's own
above all) had its cgroup.subtree_control or type changed.
"""
import os
import uuid

import pytest

from host_view import pure_v2
from test_isolation import created

V2_ROOT = "/sys/fs/cgroup"


def own_cgroup():
    with open("/proc/self/cgroup") as f:
        lines = f.read().splitlines()
    return lines[0].split(":", 2)[2] if len(lines) == 1 and lines[0].startswith("0::") else None


def pure_v2_in_a_leaf():
    return pure_v2() and own_cgroup() not in (None, "/")


pytestmark = pytest.mark.skipif(not pure_v2_in_a_leaf(),
                                reason="needs pure cgroup v2 with this process in a non-root cgroup (the v2 lane)")

MEMORY_LIMIT = 64 * 1024 * 1024


def host_dir(path):
    return os.path.join(V2_ROOT, path.lstrip("/"))


def read(path):
    with open(path) as f:
        return f.read().strip()


def snapshot_of_what_is_not_ours():
    """cgroup.subtree_control and cgroup.type of our own cgroup and each of
    its ancestors: the cgroups pyoci did not make."""
    found = {}
    directory = host_dir(own_cgroup())
    while True:
        found[directory] = (read(os.path.join(directory, "cgroup.subtree_control")),
                            read(os.path.join(directory, "cgroup.type")) if directory != V2_ROOT else "root")
        if directory == V2_ROOT:
            return found
        directory = os.path.dirname(directory)


def init_cgroup(pid):
    return read(f"/proc/{pid}/cgroup").split(":", 2)[2]


def failed_create(runtime, cgroups_path, resources):
    """create with cgroupsPath (a format string of the id) and resources;
    it must fail with exit 1 and no traceback.  Its CompletedProcess."""
    cid = runtime.new_id()

    def mutate(config):
        config["linux"]["cgroupsPath"] = cgroups_path.format(cid=cid)
        config["linux"]["resources"] = resources

    proc = runtime("create", "-b", runtime.bundle(["true"], rootfs=runtime.rootfs, mutate=mutate), cid)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert not os.path.exists(host_dir(cgroups_path.format(cid=cid)))
    return proc


@pytest.fixture
def untouched():
    """Fails the test if pyoci changed a cgroup it did not make."""
    before = snapshot_of_what_is_not_ours()
    yield
    assert snapshot_of_what_is_not_ours() == before


@pytest.fixture
def test_cgroup():
    """A cgroup of the test's own under the root, removed with what is under
    it (tests name it before `runtime`, so their containers go first)."""
    path = f"/pyoci-test-place-{uuid.uuid4().hex[:8]}"
    os.mkdir(host_dir(path))
    yield path
    for directory, _dirs, _files in sorted(os.walk(host_dir(path)), key=lambda entry: -entry[0].count("/")):
        os.rmdir(directory)


@pytest.mark.parametrize("resources", [{"memory": {"limit": MEMORY_LIMIT}}, {"pids": {"limit": 50}}],
                         ids=["memory", "pids"])
def test_an_absent_cgroups_path_goes_under_our_parent(runtime, untouched, resources):
    def mutate(config):
        config["linux"].pop("cgroupsPath", None)
        config["linux"]["resources"] = resources

    cid, pid = created(runtime, mutate=mutate)
    expected = os.path.join(os.path.dirname(own_cgroup()), cid)
    assert init_cgroup(pid) == expected
    if "memory" in resources:
        assert int(read(host_dir(expected) + "/memory.max")) == MEMORY_LIMIT
    else:
        assert read(host_dir(expected) + "/pids.max") == "50"
    runtime("delete", "-f", cid, check=True)
    assert not os.path.exists(host_dir(expected))


def test_a_nested_relative_path_hands_controllers_down_and_spares_a_neighbour(runtime, untouched):
    group = f"pyoci-test-pod-{uuid.uuid4().hex[:8]}"

    def mutate_for(cid):
        def mutate(config):
            config["linux"]["cgroupsPath"] = f"{group}/{cid}"
            config["linux"]["resources"] = {"memory": {"limit": MEMORY_LIMIT}, "cpu": {"quota": 50000}}
        return mutate

    first, second = runtime.new_id(), runtime.new_id()
    pids = {}
    for cid in (first, second):
        bundle = runtime.bundle(["sleep", "1000"], rootfs=runtime.rootfs, mutate=mutate_for(cid))
        runtime("create", "-b", bundle, cid, check=True)
        pids[cid] = runtime.state(cid)["pid"]
    parent = host_dir(os.path.join(os.path.dirname(own_cgroup()), group))
    assert init_cgroup(pids[first]) == parent[len(V2_ROOT):] + "/" + first
    assert "memory" in read(parent + "/cgroup.subtree_control").split()
    assert read(f"{parent}/{second}/cpu.max") == "50000 100000"
    # The first container's create made the group; its delete must spare the
    # second container's cgroup under it, and the group while it is in use.
    # (The second did not make the group, so its delete leaves it: the test
    # removes it, as an engine that groups containers would.)
    try:
        runtime("delete", "-f", first, check=True)
        assert os.path.isdir(f"{parent}/{second}") and str(pids[second]) in read(f"{parent}/{second}/cgroup.procs")
        runtime("delete", "-f", second, check=True)
        assert os.listdir(parent) and not [n for n in os.listdir(parent) if os.path.isdir(os.path.join(parent, n))]
    finally:
        runtime("delete", "-f", second)
        if os.path.isdir(parent):
            os.rmdir(parent)


def test_a_nested_relative_path_goes_away_with_its_container(runtime, untouched):
    cid = runtime.new_id()
    group = f"pyoci-test-pod-{uuid.uuid4().hex[:8]}"

    def mutate(config):
        config["linux"]["cgroupsPath"] = f"{group}/inner/{cid}"
        config["linux"]["resources"] = {"pids": {"limit": 10}}

    runtime("create", "-b", runtime.bundle(["sleep", "1000"], rootfs=runtime.rootfs, mutate=mutate), cid, check=True)
    parent = host_dir(os.path.join(os.path.dirname(own_cgroup()), group))
    assert read(f"{parent}/inner/{cid}/pids.max") == "10"
    runtime("delete", "-f", cid, check=True)
    assert not os.path.exists(parent)


@pytest.mark.parametrize("controller,resources", [("memory", {"memory": {"limit": MEMORY_LIMIT}}),
                                                  ("pids", {"pids": {"limit": 50}})])
def test_a_path_under_our_own_populated_cgroup_is_refused_by_name(runtime, untouched, controller, resources):
    """pids is a threaded controller: the kernel would take +pids in our own
    populated cgroup and make it "domain threaded", breaking every later
    container of the caller.  pyoci must not write it."""
    proc = failed_create(runtime, own_cgroup() + "/{cid}", resources)
    assert f"linux.resources.{controller}:" in proc.stderr
    assert host_dir(own_cgroup()) in proc.stderr
    assert "no-internal-process rule" in proc.stderr


def test_a_controller_an_existing_cgroup_does_not_hand_down_is_an_error(test_cgroup, untouched, runtime):
    proc = failed_create(runtime, test_cgroup + "/{cid}", {"memory": {"limit": MEMORY_LIMIT}})
    assert f"cgroup {host_dir(test_cgroup)} does not enable it for its children" in proc.stderr
    assert read(host_dir(test_cgroup) + "/cgroup.subtree_control") == ""


def test_a_threaded_subtree_is_named(test_cgroup, untouched, runtime):
    threaded = host_dir(test_cgroup) + "/threads"
    os.mkdir(threaded)
    with open(threaded + "/cgroup.type", "w") as f:
        f.write("threaded")
    proc = failed_create(runtime, test_cgroup + "/threads/{cid}", {"memory": {"limit": MEMORY_LIMIT}})
    assert f"cgroup {host_dir(test_cgroup)} is domain threaded" in proc.stderr
    assert "linux.resources.memory" in proc.stderr


def test_an_absolute_path_is_taken_from_the_root(runtime, untouched):
    path = f"/pyoci-test-abs-{uuid.uuid4().hex[:8]}"

    def mutate(config):
        config["linux"]["cgroupsPath"] = path
        config["linux"]["resources"] = {"memory": {"limit": MEMORY_LIMIT}}

    cid, pid = created(runtime, mutate=mutate)
    assert init_cgroup(pid) == path
    assert int(read(host_dir(path) + "/memory.max")) == MEMORY_LIMIT
    runtime("delete", "-f", cid, check=True)
    assert not os.path.exists(host_dir(path))


def test_joining_a_cgroup_that_hands_controllers_down_names_the_rule(test_cgroup, untouched, runtime):
    """A cgroupsPath that names an existing inner cgroup (one that enables
    controllers for a child of its own): the kernel refuses processes there,
    and the error says which rule, not just "device or resource busy"."""
    os.mkdir(host_dir(test_cgroup) + "/child")
    with open(host_dir(test_cgroup) + "/cgroup.subtree_control", "w") as f:
        f.write("+memory")  # a domain controller: pids, a threaded one, would allow processes here
    cid = runtime.new_id()
    bundle = runtime.bundle(["true"], rootfs=runtime.rootfs,
                            mutate=lambda c: c["linux"].update(cgroupsPath=test_cgroup))
    proc = runtime("create", "-b", bundle, cid)
    assert proc.returncode == 1, proc.stderr
    assert f"joining {host_dir(test_cgroup)}: device or resource busy" in proc.stderr
    assert "no-internal-process rule" in proc.stderr
    assert read(host_dir(test_cgroup) + "/cgroup.procs") == ""
