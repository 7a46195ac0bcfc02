"""What a container holds from outside itself, named to CRIU (checkpoint
and restore).

CRIU dumps a container's own mounts, namespaces and files, but not what
comes from the host: bind mounts (config.json's, the cgroup mount's,
masked files, devices bound in a user namespace), namespaces the config
joins by path, and the init's stdio.  As runc does, checkpoint names each
by a key (a mount's point in the container, a namespace's inode, a pipe's
inode) and restore hands back, under the same key, what the restoring
config and command have: bind sources, the new container's cgroups, the
joined namespaces, restore's own stdio.
"""
import posix  # not os: see pyoci.core.paths

from pyoci.core import paths
from pyoci.core.errors import ConfigError
from pyoci.core.jsonio import dumps, loads
from pyoci.core.procfs import own_cgroup_lines
from pyoci.plan.devices import DEFAULT_DEVICES
from pyoci.plan.mounts import cgroup_binds, mount_destinations, parse_options
from pyoci.state import atomic_write

DESCRIPTORS_FILE = "descriptors.json"  # runc's name: images are exchangeable
NULL = "/dev/null"
# linux.namespaces type -> CRIU's name for it
CRIU_NS = {"network": "net", "pid": "pid", "ipc": "ipc", "uts": "uts", "mount": "mnt", "user": "user",
           "cgroup": "cgroup", "time": "time"}
# Joined by path, these are CRIU "external" namespaces, keyed as runc keys them.
EXTERNAL_NS = {"network": "extRootNetNS", "pid": "extRootPidNS"}


def _is_bind(mount, index):
    return mount.get("type") == "bind" or parse_options(mount.get("options", []), f"mounts[{index}].options").is_bind


def _binds(config, bundle, shown_dirs, hierarchies):
    """(mount point in the container, host source) of every bind from the
    host: config.json's, the cgroup mount's (from shown_dirs, the cgroups
    it shows), and the devices (bound in a user namespace; elsewhere nodes,
    which CRIU does not look up)."""
    found = []
    for i, mount in enumerate(config.get("mounts", [])):
        dest = paths.normpath("/" + mount["destination"])
        if mount.get("type") == "cgroup":
            found += [(point, source) for source, point in cgroup_binds(dest, shown_dirs, hierarchies)]
        elif _is_bind(mount, i):
            found.append((dest, paths.join(bundle, mount.get("source", ""))))
    devices = config.get("linux", {}).get("devices", [])
    dev = mount_destinations(config).get("/dev")
    if not (dev and parse_options(dev.get("options", []), "mounts").is_bind):
        devices = list(DEFAULT_DEVICES) + devices
    return found + [(d["path"], d["path"]) for d in devices]


def dump_mounts(config, bundle, shown_dirs, hierarchies, init_pid):
    """--external mnt[POINT]:KEY for criu dump: a bind's key is its mount
    point; every masked file (/dev/null bound over it) has the key /dev/null.
    A masked directory is a tmpfs of the container's own, not a bind."""
    args = [arg for point, _source in _binds(config, bundle, shown_dirs, hierarchies)
            for arg in ("--external", f"mnt[{point}]:{point}")]
    for path in config.get("linux", {}).get("maskedPaths", []):
        point = paths.normpath("/" + path)
        inside = f"/proc/{init_pid}/root{point}"
        if paths.exists(inside) and not paths.isdir(inside):
            args += ["--external", f"mnt[{point}]:{NULL}"]
    return args


def restore_mounts(config, bundle, shown_dirs, hierarchies):
    """--external mnt[KEY]:SOURCE for criu restore."""
    sources = dict(_binds(config, bundle, shown_dirs, hierarchies))
    if config.get("linux", {}).get("maskedPaths"):
        sources[NULL] = NULL
    return [arg for key, source in sources.items() for arg in ("--external", f"mnt[{key}]:{source}")]


def make_mount_points(config, bundle, rootfs):
    """Create the bind mounts' missing mount points in the rootfs, as create
    would have (a restore may get a fresh rootfs).  Not under a symlink,
    which would resolve on the host, and not on a tmpfs, whose content CRIU
    restores."""
    tmpfs = [paths.normpath("/" + m["destination"]) for m in config.get("mounts", []) if m.get("type") == "tmpfs"]
    for i, mount in enumerate(config.get("mounts", [])):
        dest = paths.normpath("/" + mount["destination"])
        if not _is_bind(mount, i) or any(dest.startswith(t.rstrip("/") + "/") for t in tmpfs):
            continue
        _make_point(rootfs, dest, is_dir=paths.isdir(paths.join(bundle, mount.get("source", ""))))


def _make_point(rootfs, dest, is_dir):
    path = rootfs
    parts = [p for p in dest.split("/") if p]
    for n, part in enumerate(parts):
        path = paths.join(path, part)
        try:
            mode = posix.lstat(path).st_mode
        except FileNotFoundError:
            if n < len(parts) - 1 or is_dir:
                posix.mkdir(path, 0o755)
            else:
                posix.close(posix.open(path, posix.O_WRONLY | posix.O_CREAT | posix.O_CLOEXEC, 0o644))
            continue
        if mode & 0o170000 == 0o120000:  # a symlink: leave it to CRIU to report
            return


def dump_namespaces(config):
    """--external for the network and pid namespaces the config joins by path."""
    args = []
    for i, ns in enumerate(config.get("linux", {}).get("namespaces", [])):
        if ns.get("path") and ns["type"] in EXTERNAL_NS:
            try:
                inode = posix.stat(ns["path"]).st_ino
            except OSError as e:
                raise ConfigError(f"linux.namespaces[{i}].path: {ns['path']}: {posix.strerror(e.errno).lower()}") from None
            args += ["--external", f"{CRIU_NS[ns['type']]}[{inode}]:{EXTERNAL_NS[ns['type']]}"]
    return args


def restore_namespaces(config):
    """(args, fds to pass): the joined network and pid namespaces as
    inherited fds under their keys, the others joined with --join-ns.
    The caller closes the fds."""
    args, fds = [], []
    try:
        for i, ns in enumerate(config.get("linux", {}).get("namespaces", [])):
            path = ns.get("path")
            if not path:
                continue
            field = f"linux.namespaces[{i}].path"
            if ns["type"] in EXTERNAL_NS:
                try:
                    fd = posix.open(path, posix.O_RDONLY)
                except OSError as e:
                    raise ConfigError(f"{field}: {path}: {posix.strerror(e.errno).lower()}") from None
                fds.append(fd)
                args += ["--inherit-fd", f"fd[{fd}]:{EXTERNAL_NS[ns['type']]}"]
            elif ns["type"] == "cgroup":
                raise ConfigError(f"{field}: CRIU cannot restore into a joined cgroup namespace")
            else:
                args += ["--join-ns", f"{CRIU_NS[ns['type']]}:{path}"]
    except BaseException:
        for fd in fds:
            posix.close(fd)
        raise
    return args, fds


def write_descriptors(image_path, init_pid):
    """What the init's stdio is (runc's descriptors.json), for restore to
    hand its own in their place.  Read now, not at create: it is what the
    images hold."""
    found = []
    for fd in range(3):
        try:
            found.append(posix.readlink(f"/proc/{init_pid}/fd/{fd}"))
        except OSError:
            found.append("")
    atomic_write(paths.join(image_path, DESCRIPTORS_FILE), dumps(found), 0o644)


def inherit_stdio(image_path):
    """--inherit-fd for each of the init's stdio that was a pipe: restore's
    own fd of that number takes its place (a pipe's other end stayed with
    whoever ran the container)."""
    path = paths.join(image_path, DESCRIPTORS_FILE)
    try:
        with open(path, "rb") as f:
            found = loads(f.read())
    except FileNotFoundError:
        raise ConfigError(f"--image-path: {image_path}: no {DESCRIPTORS_FILE}, not a container checkpoint") from None
    except ValueError as e:
        raise ConfigError(f"--image-path: {path} is damaged: {e}") from None
    if not isinstance(found, list) or not all(isinstance(what, str) for what in found):
        raise ConfigError(f"--image-path: {path} is damaged: not a list of strings")
    return [arg for fd, what in enumerate(found) if what.startswith("pipe:")
            for arg in ("--inherit-fd", f"fd[{fd}]:{what}")]


def cgroup_roots(cgroup_dirs, hierarchies):
    """--cgroup-root for each hierarchy: CRIU puts the restored tasks'
    cgroups (and, with --manage-cgroups-mode full or strict, their
    settings) under the new container's.  Controllers are named as
    /proc/self/cgroup names them; cgroup2 is the default root."""
    names = {frozenset(controllers.split(",")) if controllers else frozenset(): controllers
             for controllers, _path in own_cgroup_lines()}
    args = []
    for h in hierarchies:
        directory = cgroup_dirs.get(h.mountpoint)
        if directory is None:
            continue
        inside = "/" + directory[len(h.mountpoint):].lstrip("/")
        if h.v2:
            args += ["--cgroup-root", inside]
        elif h.controllers in names:
            args += ["--cgroup-root", f"{names[h.controllers]}:{inside}"]
    return args
