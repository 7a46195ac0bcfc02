"""Mounts a container without a mount namespace of its own leaves in the
host's (create records, delete and a failed create take down).

Such a container shares the runtime's mount namespace, as the spec says a
type not listed must; its mounts under the rootfs are then the host's.  The
mount ids under the rootfs are recorded before the init starts, and
everything mounted there since is detached, deepest first.
"""
from pyoci.core import mountinfo
from pyoci.launch import native


def _under(rootfs):
    """(mount id, mount point) of every mount at or below rootfs."""
    prefix = rootfs.rstrip("/") + "/"
    return [(m.mount_id, m.point) for m in mountinfo.read() if m.point == rootfs or m.point.startswith(prefix)]


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
            import errno  # an error's path only

            if e.errno not in (errno.ENOENT, errno.EINVAL):  # gone already, or not a mount point any more
                raise
