"""config.json mounts -> mount steps (create, before pivot_root).

The spec's option table (config-linux.md "Mount Options") maps each option to
a mount(2) flag to set or clear, a propagation change, or a recursive
attribute applied with mount_setattr(2); anything else is filesystem data.
Bind mounts take their per-mount flags only on a remount, so a read-only
bind becomes a bind plus a remount.
"""

from pyoci.core import paths
# The kernel's flags, from the headers at build time (pyoci/_native/constants.py).
from pyoci._constants import (ATTR__ATIME, ATTR_NOATIME, ATTR_NODEV, ATTR_NODIRATIME, ATTR_NOEXEC, ATTR_NOSUID,
                              ATTR_NOSYMFOLLOW, ATTR_RDONLY, ATTR_RELATIME, ATTR_STRICTATIME, MS_BIND, MS_DIRSYNC, MS_I_VERSION, MS_LAZYTIME, MS_MANDLOCK, MS_NOATIME, MS_NODEV,
                              MS_NODIRATIME, MS_NOEXEC, MS_NOSUID, MS_NOSYMFOLLOW, MS_PRIVATE, MS_RDONLY, MS_REC,
                              MS_RELATIME, MS_REMOUNT, MS_SHARED, MS_SILENT, MS_SLAVE, MS_STRICTATIME, MS_SYNCHRONOUS,
                              MS_UNBINDABLE)
from pyoci.core.errors import ConfigError

# option -> (clear?, flag)
FLAG_OPTIONS = {
    "async": (True, MS_SYNCHRONOUS),
    "atime": (True, MS_NOATIME),
    "bind": (False, MS_BIND),
    "defaults": (False, 0),
    "dev": (True, MS_NODEV),
    "diratime": (True, MS_NODIRATIME),
    "dirsync": (False, MS_DIRSYNC),
    "exec": (True, MS_NOEXEC),
    "iversion": (False, MS_I_VERSION),
    "lazytime": (False, MS_LAZYTIME),
    "loud": (True, MS_SILENT),
    "mand": (False, MS_MANDLOCK),
    "noatime": (False, MS_NOATIME),
    "nodev": (False, MS_NODEV),
    "nodiratime": (False, MS_NODIRATIME),
    "noexec": (False, MS_NOEXEC),
    "noiversion": (True, MS_I_VERSION),
    "nolazytime": (True, MS_LAZYTIME),
    "nomand": (True, MS_MANDLOCK),
    "norelatime": (True, MS_RELATIME),
    "nostrictatime": (True, MS_STRICTATIME),
    "nosuid": (False, MS_NOSUID),
    "nosymfollow": (False, MS_NOSYMFOLLOW),
    "rbind": (False, MS_BIND | MS_REC),
    "relatime": (False, MS_RELATIME),
    "remount": (False, MS_REMOUNT),
    "ro": (False, MS_RDONLY),
    "rw": (True, MS_RDONLY),
    "silent": (False, MS_SILENT),
    "strictatime": (False, MS_STRICTATIME),
    "suid": (True, MS_NOSUID),
    "sync": (False, MS_SYNCHRONOUS),
    "symfollow": (True, MS_NOSYMFOLLOW),
}

PROPAGATION = {
    "private": MS_PRIVATE,
    "rprivate": MS_PRIVATE | MS_REC,
    "shared": MS_SHARED,
    "rshared": MS_SHARED | MS_REC,
    "slave": MS_SLAVE,
    "rslave": MS_SLAVE | MS_REC,
    "unbindable": MS_UNBINDABLE,
    "runbindable": MS_UNBINDABLE | MS_REC,
}

# recursive option -> (attr_set, attr_clr)
RECURSIVE_OPTIONS = {
    "rro": (ATTR_RDONLY, 0),
    "rrw": (0, ATTR_RDONLY),
    "rnosuid": (ATTR_NOSUID, 0),
    "rsuid": (0, ATTR_NOSUID),
    "rnodev": (ATTR_NODEV, 0),
    "rdev": (0, ATTR_NODEV),
    "rnoexec": (ATTR_NOEXEC, 0),
    "rexec": (0, ATTR_NOEXEC),
    "rnodiratime": (ATTR_NODIRATIME, 0),
    "rdiratime": (0, ATTR_NODIRATIME),
    "rrelatime": (ATTR_RELATIME, ATTR__ATIME),
    "rnorelatime": (0, ATTR__ATIME),
    "rnoatime": (ATTR_NOATIME, ATTR__ATIME),
    "ratime": (0, ATTR__ATIME),
    "rstrictatime": (ATTR_STRICTATIME, ATTR__ATIME),
    "rnostrictatime": (0, ATTR__ATIME),
    "rnosymfollow": (ATTR_NOSYMFOLLOW, 0),
    "rsymfollow": (0, ATTR_NOSYMFOLLOW),
}

# runc's extension (podman's --read-only asks for it): a tmpfs starts with a
# copy of what it hides in the image.
COPY_UP = "tmpcopyup"

# An idmapped bind (mount_setattr(MOUNT_ATTR_IDMAP)); ridmap on every mount of an rbind.
IDMAP_OPTIONS = {"idmap": False, "ridmap": True}


class ParsedOptions:
    def __init__(self):
        self.flags = 0
        self.cleared = 0
        self.propagation = []
        self.attr_set = 0
        self.attr_clr = 0
        self.data = []
        self.copy_up = False
        self.idmap = None  # None, or True when every mount of the tree is mapped (ridmap)

    @property
    def is_bind(self):
        return bool(self.flags & MS_BIND)


def parse_options(options, field):
    p = ParsedOptions()
    for opt in options:
        if opt in FLAG_OPTIONS:
            clear, flag = FLAG_OPTIONS[opt]
            if clear:
                p.flags &= ~flag
                p.cleared |= flag
            else:
                p.flags |= flag
        elif opt in PROPAGATION:
            p.propagation.append(PROPAGATION[opt])
        elif opt in RECURSIVE_OPTIONS:
            s, c = RECURSIVE_OPTIONS[opt]
            p.attr_set |= s
            p.attr_clr |= c
        elif opt == COPY_UP:
            p.copy_up = True
        elif opt in IDMAP_OPTIONS:
            p.idmap = IDMAP_OPTIONS[opt]
        else:
            p.data.append(opt)
    return p


def id_map_text(mappings):
    """uid_map/gid_map file content: one "inside outside count" line each."""
    return "".join(f"{m['containerID']} {m['hostID']} {m['size']}\n" for m in mappings)


def idmap_of(mount, opts, field, container_maps):
    """(uid_map, gid_map) text of an idmapped mount, or None: the mount's own
    mappings, else the container's user namespace's (the spec's MAY)."""
    own = (mount.get("uidMappings"), mount.get("gidMappings"))
    if opts.idmap is None and own == (None, None):
        return None
    if (own[0] is None) != (own[1] is None):
        raise ConfigError(f"{field}: uidMappings and gidMappings go together")
    if not opts.is_bind:
        raise ConfigError(f"{field}.options: only a bind mount can be idmapped")
    maps = own if own[0] is not None else container_maps
    if not maps:
        raise ConfigError(f"{field}.options: idmap without uidMappings/gidMappings needs a user namespace to take them from")
    return id_map_text(maps[0]), id_map_text(maps[1])


def compile_mount(plan, mount, index, bundle, container_maps=None):
    """container_maps: the user namespace's (uidMappings, gidMappings), if the container has one."""
    dest = mount["destination"]
    field = f"mounts[{index}]"
    label = f"{field} {dest}"
    opts = parse_options(mount.get("options", []), f"{field}.options")
    kind = mount.get("type")
    source = mount.get("source")
    if kind == "bind":
        opts.flags |= MS_BIND
    idmap = idmap_of(mount, opts, field, container_maps)
    is_file = 0
    if opts.is_bind:
        if not source:
            raise ConfigError(f"{field}.source: a bind mount needs a source")
        source = paths.join(bundle, source)
        if not paths.exists(source):
            raise ConfigError(f"{field}.source: {source}: no such file or directory")
        is_file = int(not paths.isdir(source))
        flags = opts.flags & (MS_BIND | MS_REC)
    else:
        flags = opts.flags
    if opts.copy_up and (kind != "tmpfs" or opts.is_bind):
        raise ConfigError(f"{field}.options: {COPY_UP} needs a tmpfs mount")
    data = ",".join(opts.data) or None
    if idmap:
        # The parent makes the idmapped tree (pyoci.launch.native opens it into tree).
        plan.add("ATTACH_MOUNT", f"{label}: idmapped bind", source=source, dest=dest, uid_map=idmap[0],
                 gid_map=idmap[1], is_file=is_file, recursive=int(bool(flags & MS_REC)),
                 idmap_all=int(opts.idmap is True))
    else:
        step = f"{label}: mount" + (f" ({COPY_UP})" if opts.copy_up else "")
        plan.add("MOUNT", step, source=source, dest=dest, fstype=None if opts.is_bind else kind, data=data,
                 flags=flags, is_file=is_file, copy_up=int(opts.copy_up))
    # A bind ignores every flag but MS_REC: the rest needs a remount.
    remount_flags = opts.flags & ~(MS_BIND | MS_REC | MS_REMOUNT)
    if opts.is_bind and remount_flags:
        plan.add("REMOUNT", f"{label}: remount", dest=dest, flags=remount_flags)
    for prop in opts.propagation:
        plan.add("PROPAGATE", f"{label}: propagation", dest=dest, flags=prop)
    if opts.attr_set or opts.attr_clr:
        plan.add("SETATTR", f"{label}: mount_setattr", dest=dest, attr_set=opts.attr_set, attr_clr=opts.attr_clr)


def compile_cgroup_mount(plan, mount, index, cgroup_dirs, hierarchies):
    """A "cgroup" mount shows the container its own cgroups, as runc does:
    on a unified host a bind of its cgroup2 directory; otherwise a tmpfs
    holding a bind of its directory in every hierarchy, named as on the host."""
    dest = mount["destination"]
    label = f"mounts[{index}] {dest}"
    opts = parse_options(mount.get("options", []), f"mounts[{index}].options")
    flags = opts.flags & ~(MS_BIND | MS_REC | MS_REMOUNT)
    binds = cgroup_binds(dest, cgroup_dirs, hierarchies)
    if binds[0][1] == dest:
        plan.add("MOUNT", f"{label}: bind cgroup2", source=binds[0][0], dest=dest, flags=MS_BIND)
        plan.add("REMOUNT", f"{label}: remount", dest=dest, flags=flags)
        return
    plan.add("MOUNT", f"{label}: mount tmpfs", source="tmpfs", dest=dest, fstype="tmpfs",
             data="mode=755", flags=flags & ~MS_RDONLY)
    for source, sub in binds:
        plan.add("MOUNT", f"{label}: bind {sub}", source=source, dest=sub, flags=MS_BIND)
        plan.add("REMOUNT", f"{label}: remount {sub}", dest=sub, flags=flags)
    if flags & MS_RDONLY:
        plan.add("REMOUNT", f"{label}: remount", dest=dest, flags=flags)


def cgroup_binds(dest, cgroup_dirs, hierarchies):
    """(host directory, mount point) of every bind a "cgroup" mount at dest
    makes: the cgroup2 directory at dest itself on a unified host, else one
    per hierarchy under dest.  Checkpoint and restore name them to CRIU."""
    unified = [h for h in hierarchies if h.v2]
    if len(hierarchies) == len(unified) == 1:
        return [(cgroup_dirs[unified[0].mountpoint], dest)]
    return [(cgroup_dirs[h.mountpoint], paths.join(dest, paths.basename(h.mountpoint))) for h in hierarchies]


def mount_destinations(config):
    return {paths.normpath(m["destination"]): m for m in config.get("mounts", [])}
