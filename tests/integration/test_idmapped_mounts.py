"""Idmapped bind mounts (the idmap/ridmap options, per-mount uidMappings and
gidMappings) on real containers: owners as the container sees them, with
the mount's own mappings or a new user namespace's, and on submounts only
with ridmap."""
import os
import pathlib
import shutil
import subprocess
import tempfile

import pytest

from test_isolation import add_userns, run_probe

MAP = [{"containerID": 0, "hostID": 1234, "size": 1}, {"containerID": 1000, "hostID": 2000, "size": 1}]


@pytest.fixture
def shared():
    """A host directory with files of root, of 1000 and of 7, and a tmpfs
    submount holding a root-owned file; unmounted and removed afterwards.
    Not under pytest's 0700 tmp: a user namespace's root must reach it."""
    base = tempfile.mkdtemp(prefix="pyoci-test-idmap-")
    os.chmod(base, 0o755)
    top = pathlib.Path(base, "shared")
    (top / "sub").mkdir(parents=True)
    for name, owner in (("root-file", 0), ("user-file", 1000), ("other-file", 7)):
        (top / name).write_text(name)
        os.chown(top / name, owner, owner)
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(top / "sub")], check=True)
    try:
        (top / "sub" / "in-sub").write_text("x")
        os.chmod(top, 0o755)
        for path in (top, top / "sub"):
            skip_unless_idmappable(str(path))
        yield str(top)
    finally:
        subprocess.run(["umount", str(top / "sub")], check=True)
        shutil.rmtree(base)


def skip_unless_idmappable(path):
    """Skip, with the kernel's answer, where it cannot idmap a mount of
    path's filesystem (tmpfs before Linux 6.3: Debian 12's 6.1 in the v2 lane)."""
    from pyoci.launch.native import idmapped_tree

    fd = idmapped_tree(path, "0 1234 1\n", "0 1234 1\n", 0, 0)
    if fd < 0:
        pytest.skip(f"Linux {os.uname().release} cannot idmap a mount of {path}'s filesystem: "
                    f"{os.strerror(-fd)}")
    os.close(fd)


def owners(runtime, mount, mutate=None):
    def with_mount(config):
        config["mounts"].append(dict(mount, destination="/shared", type="bind"))
        if mutate:
            mutate(config)

    out = run_probe(runtime, "cd /shared && stat -c '%n %u:%g' root-file user-file other-file sub/in-sub",
                    mutate=with_mount)
    return dict(line.split() for line in out.splitlines())


def test_the_mounts_own_mappings(runtime, shared):
    seen = owners(runtime, {"source": shared, "options": ["rbind", "idmap"], "uidMappings": MAP, "gidMappings": MAP})
    # On-disk ids inside a mapping show as their host side; others as the overflow id.
    assert seen == {"root-file": "1234:1234", "user-file": "2000:2000", "other-file": "65534:65534",
                    "sub/in-sub": "0:0"}


def test_ridmap_maps_the_submounts_too(runtime, shared):
    seen = owners(runtime, {"source": shared, "options": ["rbind", "ridmap"], "uidMappings": MAP, "gidMappings": MAP})
    assert seen["sub/in-sub"] == "1234:1234"


def test_idmap_with_the_containers_user_namespace(runtime, shared):
    # Without idmap, the container's root would see the host's root files as nobody's.
    plain = owners(runtime, {"source": shared, "options": ["rbind"]}, mutate=add_userns)
    mapped = owners(runtime, {"source": shared, "options": ["rbind", "idmap"]}, mutate=add_userns)
    assert plain["root-file"] == "65534:65534"
    assert (mapped["root-file"], mapped["user-file"]) == ("0:0", "1000:1000")


def test_idmap_without_mappings_or_user_namespace_is_refused(runtime, shared):
    def mutate(config):
        config["mounts"].append({"destination": "/shared", "type": "bind", "source": shared,
                                 "options": ["bind", "idmap"]})

    cid = runtime.new_id()
    proc = runtime("create", "-b", runtime.bundle(["true"], rootfs=runtime.rootfs, mutate=mutate), cid)
    assert proc.returncode == 1
    assert "idmap without uidMappings/gidMappings needs a user namespace" in proc.stderr, proc.stderr
