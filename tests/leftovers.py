"""Checks that a container left nothing behind: state directory, cgroups,
mounts, processes.  Used by the fixtures' teardown and by tests that check
right after a failed command."""
import os


def cgroup_dirs_named(cid):
    found = []
    for base, dirs, _files in os.walk("/sys/fs/cgroup"):
        if cid in dirs:
            found.append(os.path.join(base, cid))
        dirs[:] = [d for d in dirs if not d.startswith(("t-", "bad-")) or d == cid]
    return found


def mounts_under(path):
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4] for line in f if line.split()[4].startswith(path)]


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
