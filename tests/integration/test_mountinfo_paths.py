"""A container without a mount namespace of its own, in a bundle whose path
the kernel escapes in /proc/self/mountinfo or that is not ASCII.

Such a container's mounts are the host's: create records which mounts were
under the rootfs before, and delete (or a failed create) finds the new ones
in mountinfo and takes them down.  A path read back wrong there is never
matched, and the mounts stay on the host after the container is gone.

What is mounted is read here with the tests' own decoder (leftovers), not
with pyoci's.  maskedPaths and readonlyPaths are left out: runc refuses
them without a mount namespace, and the comparison is about the mounts.

runc 1.1.5 makes these mounts in the host's namespace too but takes none of
them down, after `delete -f` or a failed create, whatever the path; and in a
bundle whose path is not UTF-8 its init mounts a path with U+FFFD in place of
those bytes, which does not exist, so its create fails.  Both fail here."""
import os
import shutil
import subprocess

import pytest

from bundle import make_rootfs
from leftovers import mounts_under

NAMES = {
    "utf8-space": "café ü",
    "tab-newline-backslash": "tab\tnew\nline back\\040slash",
    "not-utf8": os.fsdecode(b"caf\xe9 \xff"),
}


def host_mount_namespace(config):
    config["linux"]["namespaces"] = [n for n in config["linux"]["namespaces"] if n["type"] != "mount"]
    del config["linux"]["maskedPaths"]
    del config["linux"]["readonlyPaths"]
    config["mounts"] += [
        {"destination": "/mnt/tmp a", "type": "tmpfs", "source": "tmpfs"},
        {"destination": "/mnt/bind é", "type": "bind", "source": "../shared dir", "options": ["rbind"]},
    ]


@pytest.fixture(params=list(NAMES), ids=list(NAMES))
def odd_bundle(runtime, request):
    """(top directory, bundle, rootfs): the bundle and its rootfs under a
    directory named NAMES[param]; whatever is mounted under it is detached
    and the directory removed after the test, whether it passed or not."""
    top = os.path.join(runtime.tmp, NAMES[request.param])
    ids_before = len(runtime.ids)
    try:
        os.makedirs(os.path.join(top, "shared dir"))
        yield top, os.path.join(top, "bundle"), make_rootfs(os.path.join(top, "bundle", "rootfs"))
    finally:
        for cid in runtime.ids[ids_before:]:
            runtime("delete", "--force", cid)
        for point in sorted(mounts_under(top + "/"), key=len, reverse=True):
            subprocess.run(["umount", "-l", point], check=False)
        if not mounts_under(top + "/"):  # never remove through a mount left behind
            shutil.rmtree(top, ignore_errors=True)


def write(runtime, bundle, args, mutate=None):
    def config(c):
        host_mount_namespace(c)
        if mutate:
            mutate(c)

    written = runtime.bundle(args, name=os.path.relpath(bundle, runtime.tmp), rootfs="rootfs", mutate=config)
    assert written == bundle


def test_delete_takes_down_the_mounts_under_an_odd_rootfs_path(runtime, odd_bundle):
    top, bundle, rootfs = odd_bundle
    write(runtime, bundle, ["sleep", "1000"])
    cid = runtime.new_id()
    runtime("create", "-b", bundle, cid, check=True)
    made = mounts_under(rootfs + "/")
    # Without this, "nothing left" below would hold for a runtime that mounted nothing.
    assert {os.path.join(rootfs, "proc"), os.path.join(rootfs, "mnt/tmp a"), os.path.join(rootfs, "mnt/bind é")} \
        <= set(made), made
    runtime("start", cid, check=True)
    assert runtime.state(cid)["status"] == "running"
    runtime("delete", "--force", cid, check=True)
    assert mounts_under(rootfs) == []
    assert mounts_under(top + "/") == []


def test_a_failed_create_takes_down_the_mounts_under_an_odd_rootfs_path(runtime, odd_bundle):
    top, bundle, rootfs = odd_bundle

    def fail_after_the_mounts(config):
        config["hooks"] = {"createRuntime": [{"path": "/bin/false"}]}

    write(runtime, bundle, ["true"], fail_after_the_mounts)
    cid = runtime.new_id()
    proc = runtime("create", "-b", bundle, cid)
    assert proc.returncode != 0
    assert mounts_under(top + "/") == []
