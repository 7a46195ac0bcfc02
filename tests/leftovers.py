"""Checks that a container left nothing behind: state directory, cgroups,
mounts, processes.  Used by the fixtures' teardown and by tests that check
right after a failed command."""
import os
import re


def cgroup_dirs_named(cid):
    found = []
    for base, dirs, _files in os.walk("/sys/fs/cgroup"):
        if cid in dirs:
            found.append(os.path.join(base, cid))
        dirs[:] = [d for d in dirs if not d.startswith(("t-", "bad-")) or d == cid]
    return found


def mount_points():
    """Every mount point in this process's mountinfo, as the path a syscall
    takes: the kernel's octal escapes (space, tab, newline, backslash) are
    bytes, and the bytes are a name as os.fsdecode reads it.  Written apart
    from pyoci.core.mountinfo so that a test does not check pyoci with itself."""
    with open("/proc/self/mountinfo", "rb") as f:
        return [os.fsdecode(re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m[1], 8)]), line.split(b" ")[4]))
                for line in f]


def mounts_under(path):
    return [point for point in mount_points() if point.startswith(path)]


def processes_rooted_in(path):
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if os.readlink(f"/proc/{pid}/root").startswith(path) or os.readlink(f"/proc/{pid}/cwd").startswith(path):
                found.append(int(pid))
        except OSError:
            continue
    return found


def assert_nothing_left(root, cid, tmp, rootfs):
    assert not os.path.exists(os.path.join(root, cid)), f"state dir of {cid} left behind"
    assert cgroup_dirs_named(cid) == [], f"cgroups of {cid} left behind"
    for path in (tmp, rootfs):
        assert mounts_under(path) == [], f"mounts left under {path}"
        assert processes_rooted_in(path) == [], f"processes left in {path}"
