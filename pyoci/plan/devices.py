"""Device nodes and /dev symlinks in the container (create, before pivot_root).

Unless the config bind-mounts a /dev of its own, the container gets the
runtime's default devices (null, zero, full, random, urandom, tty) plus
linux.devices, and the usual symlinks.  In a new user namespace mknod is
refused, so the host's node is bind-mounted instead (as runc does).
"""
import posix  # not os: see pyoci.core.paths
from _stat import S_IFBLK, S_IFCHR, S_IFIFO  # libc's values, as CPython was built with them

from pyoci.core import paths
from pyoci.core.errors import ConfigError

TYPES = {"c": S_IFCHR, "u": S_IFCHR, "b": S_IFBLK, "p": S_IFIFO}

DEFAULT_DEVICES = (
    {"path": "/dev/null", "type": "c", "major": 1, "minor": 3},
    {"path": "/dev/zero", "type": "c", "major": 1, "minor": 5},
    {"path": "/dev/full", "type": "c", "major": 1, "minor": 7},
    {"path": "/dev/random", "type": "c", "major": 1, "minor": 8},
    {"path": "/dev/urandom", "type": "c", "major": 1, "minor": 9},
    {"path": "/dev/tty", "type": "c", "major": 5, "minor": 0},
)

SYMLINKS = (
    ("/proc/self/fd", "/dev/fd"),
    ("/proc/self/fd/0", "/dev/stdin"),
    ("/proc/self/fd/1", "/dev/stdout"),
    ("/proc/self/fd/2", "/dev/stderr"),
)


def compile_devices(plan, config, dev_is_host_bind, in_userns):
    linux = config.get("linux", {})
    configured = linux.get("devices", [])
    entries = [(f"linux.devices[{i}]", d) for i, d in enumerate(configured)]
    if not dev_is_host_bind:
        taken = {paths.normpath(d["path"]) for d in configured}
        entries = [("default device", d) for d in DEFAULT_DEVICES if d["path"] not in taken] + entries
    for field, dev in entries:
        path = dev["path"]
        kind = dev["type"]
        if kind not in TYPES:
            raise ConfigError(f"{field}.type: unknown device type {kind!r}")
        mode = TYPES[kind] | (dev.get("fileMode", 0o666) & 0o7777)
        rdev = 0 if kind == "p" else posix.makedev(dev["major"], dev["minor"])
        bind = int(in_userns)
        if bind and not paths.exists(path):
            raise ConfigError(f"{field}: {path}: needs the host's node in a user namespace, which has none")
        plan.add(
            "MKNOD",
            f"{field} {path}: mknod",
            host=path,
            dest=path,
            mode=mode,
            rdev=rdev,
            uid=dev.get("uid", 0),
            gid=dev.get("gid", 0),
            bind=bind,
        )
    if not dev_is_host_bind:
        links = list(SYMLINKS)
        if paths.exists("/proc/kcore"):
            links.append(("/proc/kcore", "/dev/core"))
        for target, link in links:
            plan.add("SYMLINK", f"{link}: symlink", target=target, link=link)
