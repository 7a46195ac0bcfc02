"""linux.maskedPaths and linux.readonlyPaths against an image that plants
links where the runtime expects a null device or a plain path: runc's
CVE-2025-31133 (a /dev/null that is no null device turns every mask into a
window on what it stands for) and masks or read-only binds led through a
symlink onto its target.  Each attack runs in a real container.

Run them against another runtime with PYOCI_RUNTIME=runc (see conftest).
"""
import os
import subprocess
import uuid

import pytest

from captured import run_captured
from test_escapes import bundle_with, own_rootfs  # noqa: F401 (own_rootfs: a fixture)

SECRET = "the-secret-marker\n"
CORE_PATTERN = "/proc/sys/kernel/core_pattern"


def assert_refused_or_ran(proc, field, expected):
    """Either create refused, naming field, or the container printed expected."""
    if proc.returncode != 0 and proc.stdout == "":
        assert field in proc.stderr, proc.stderr
    else:
        assert proc.stdout == expected, proc.stdout + proc.stderr


def write(path, content):
    with open(path, "w") as f:
        f.write(content)


def read(path):
    with open(path) as f:
        return f.read()


def image_dev(rootfs):
    """A mutate that binds the image's own /dev at /dev instead of the tmpfs:
    the runtime makes no device nodes in a bound /dev, so the image's
    /dev/null is the one the masks use (as with a /dev that another
    container shares and can change)."""
    def mutate(config):
        for mount in config["mounts"]:
            if mount["destination"] == "/dev":
                mount.update(type="bind", source=os.path.join(rootfs, "dev"), options=["rbind"])
    return mutate


def run(runtime, bundle, stdin=None):
    """`run` the bundle with stdin (as subprocess takes it) for the
    container's, an empty pipe unless given: stdin that is the host's
    /dev/null is reopened on the container's, which one test aims at."""
    cid = runtime.new_id()
    if stdin is None:
        return runtime("run", "-b", bundle, cid, input="")
    return run_captured(runtime.cmd + ["--root", runtime.root, "run", "-b", bundle, cid],
                        stdin=stdin, text=True, timeout=30)


# -- CVE-2025-31133: the mask is whatever the image's /dev/null is -------------

@pytest.mark.parametrize("null", ["symlink-to-secret", "regular-file", "symlink-to-core_pattern"])
def test_a_fake_dev_null_does_not_show_through_a_mask(runtime, own_rootfs, null):
    """The image's /dev/null leads to a file of its own holding a secret, is
    that file, or leads to the host-wide core_pattern: a file masked with it
    would show (or, without readonlyPaths, let the container write) that
    file.  The create must refuse, or the masked file must read empty."""
    host_core_pattern = read(CORE_PATTERN)
    write(os.path.join(own_rootfs, "secret"), SECRET)
    write(os.path.join(own_rootfs, "masked-file"), "hidden by the mask\n")
    dev_null = os.path.join(own_rootfs, "dev", "null")
    if null == "regular-file":
        write(dev_null, SECRET)
    else:
        os.symlink(CORE_PATTERN if null == "symlink-to-core_pattern" else "/secret", dev_null)
    bind_dev = image_dev(own_rootfs)

    def mask(config):
        bind_dev(config)
        config["linux"]["maskedPaths"] = ["/masked-file"]

    proc = run(runtime, bundle_with(runtime, own_rootfs, ["cat", "/masked-file"], mask))
    assert proc.stdout == "", proc.stdout + proc.stderr
    if proc.returncode != 0:
        assert "linux.maskedPaths[0] /masked-file" in proc.stderr, proc.stderr
    assert read(CORE_PATTERN) == host_core_pattern


def test_stdio_on_the_hosts_dev_null_is_not_reopened_on_a_fake_one(runtime, own_rootfs):
    """Standard input that is the host's /dev/null is reopened (read-write)
    on the container's: an image whose /dev/null leads to a file would get
    that file as the container's stdin and stdout."""
    write(os.path.join(own_rootfs, "secret"), SECRET)
    os.symlink("/secret", os.path.join(own_rootfs, "dev", "null"))
    bind_dev = image_dev(own_rootfs)

    def no_masks(config):
        bind_dev(config)
        config["root"]["readonly"] = False  # a file open for writing would make its remount fail
        config["linux"]["maskedPaths"] = []

    proc = run(runtime, bundle_with(runtime, own_rootfs, ["cat"], no_masks), stdin=subprocess.DEVNULL)
    assert proc.stdout == "", proc.stdout + proc.stderr
    if proc.returncode != 0:
        assert "/dev/null" in proc.stderr, proc.stderr
    assert read(os.path.join(own_rootfs, "secret")) == SECRET


# -- a masked or read-only path that is a symlink --------------------------------

def test_a_masked_path_symlink_does_not_mask_its_target(runtime, own_rootfs):
    """/masked-dir and /masked-file are links to the image's /etc/secretdir
    and /etc/secretfile: following them would hide those (any path the
    image likes) instead of the paths the config names."""
    os.makedirs(os.path.join(own_rootfs, "etc", "secretdir"))
    write(os.path.join(own_rootfs, "etc", "secretdir", "kept"), "dir content\n")
    write(os.path.join(own_rootfs, "etc", "secretfile"), "file content\n")
    os.symlink("/etc/secretdir", os.path.join(own_rootfs, "masked-dir"))
    os.symlink("/etc/secretfile", os.path.join(own_rootfs, "masked-file"))

    def mask(config):
        config["linux"]["maskedPaths"] = ["/masked-dir", "/masked-file"]

    script = "cat /etc/secretdir/kept /etc/secretfile; grep -c ' /etc/secret' /proc/self/mountinfo; true"
    proc = run(runtime, bundle_with(runtime, own_rootfs, ["sh", "-c", script], mask))
    assert_refused_or_ran(proc, "linux.maskedPaths[0] /masked-dir", "dir content\nfile content\n0\n")


def test_a_readonly_path_symlink_does_not_make_its_target_readonly(runtime, own_rootfs):
    """/ro-link leads to the image's writable /data: following it would bind
    /data read-only, a path the config never named."""
    os.makedirs(os.path.join(own_rootfs, "data"))
    os.symlink("/data", os.path.join(own_rootfs, "ro-link"))

    def readonly(config):
        config["root"]["readonly"] = False
        config["linux"]["readonlyPaths"] = ["/ro-link"]

    script = "touch /data/written && echo written; grep -c ' /data ' /proc/self/mountinfo; true"
    proc = run(runtime, bundle_with(runtime, own_rootfs, ["sh", "-c", script], readonly))
    assert_refused_or_ran(proc, "linux.readonlyPaths[0] /ro-link", "written\n0\n")


# -- what masks and read-only paths are for still holds ---------------------------

def test_plain_masked_and_readonly_paths_in_the_image(runtime, own_rootfs):
    """A masked file reads empty, a masked directory is empty and read-only,
    a read-only directory refuses writes; what the image has under a mask
    stays in it."""
    write(os.path.join(own_rootfs, "masked-file"), SECRET)
    os.makedirs(os.path.join(own_rootfs, "masked-dir"))
    write(os.path.join(own_rootfs, "masked-dir", "inside"), SECRET)
    os.makedirs(os.path.join(own_rootfs, "ro-dir"))

    def paths(config):
        config["root"]["readonly"] = False
        config["linux"]["maskedPaths"] += ["/masked-file", "/masked-dir"]
        config["linux"]["readonlyPaths"] += ["/ro-dir"]

    script = ("echo \"file: $(cat /masked-file)\"; echo \"dir: $(ls -A /masked-dir)\"; "
              "touch /masked-dir/x 2>/dev/null || echo masked-dir read-only; "
              "touch /ro-dir/x 2>/dev/null || echo ro-dir read-only; "
              "touch /written && echo root writable")
    proc = run(runtime, bundle_with(runtime, own_rootfs, ["sh", "-c", script], paths))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "file: \ndir: \nmasked-dir read-only\nro-dir read-only\nroot writable\n", proc.stdout
    assert read(os.path.join(own_rootfs, "masked-file")) == SECRET
    assert os.listdir(os.path.join(own_rootfs, "masked-dir")) == ["inside"]
    assert not os.path.exists(os.path.join(own_rootfs, "ro-dir", "x"))


# -- writes after pivot_root go to procfs or nowhere -------------------------------

def test_a_sysctl_lands_in_procfs_or_create_fails(runtime, own_rootfs):
    """An image with no /proc mounted holds a file of its own where a sysctl
    goes: written there, the value is in that file and the setting is
    silently not made (the pattern of runc's CVE-2025-52881)."""
    planted = os.path.join(own_rootfs, "proc", "sys", "net", "core", "somaxconn")
    os.makedirs(os.path.dirname(planted))
    write(planted, "unchanged\n")

    def no_proc(config):
        config["mounts"] = [m for m in config["mounts"] if m["destination"] != "/proc"]
        config["linux"].update(sysctl={"net.core.somaxconn": "1234"}, maskedPaths=[], readonlyPaths=[])

    proc = run(runtime, bundle_with(runtime, own_rootfs, ["true"], no_proc))
    assert read(planted) == "unchanged\n"
    assert proc.returncode != 0, "the sysctl was reported as set"
    assert "linux.sysctl.net.core.somaxconn" in proc.stderr or "PYOCI_RUNTIME" in os.environ, proc.stderr
