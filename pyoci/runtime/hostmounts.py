"""Mounts a container without a mount namespace of its own leaves in the
host's (create records, delete and a failed create take down).

Such a container shares the runtime's mount namespace, as the spec says a
type not listed must; its mounts under the rootfs are then the host's.  The
mount ids under the rootfs are recorded before the init starts, and
everything mounted there since is detached, deepest first.
"""
from pyoci import native


def _under(rootfs):
    """(mount id, mount point) of every mount at or below rootfs."""
    found = []
    prefix = rootfs.rstrip("/") + "/"
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            point = fields[4].encode().decode("unicode_escape")
            if point == rootfs or point.startswith(prefix):
                found.append((int(fields[0]), point))
    return found


def snapshot(rootfs):
    return [mount_id for mount_id, _ in _under(rootfs)]


def detach_new(rootfs, before):
    """Detach the mounts under rootfs that were not there before."""
    known = set(before)
    for _mount_id, point in sorted((m for m in _under(rootfs) if m[0] not in known),
                                   key=lambda m: len(m[1]), reverse=True):
        try:
            native.umount(point)
        except OSError as e:
            if e.errno not in (2, 22):  # gone already, or not a mount point any more
                raise
