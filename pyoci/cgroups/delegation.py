"""Cgroups of a rootless container: only where they were delegated (create).

An unprivileged user, or root in a user namespace, may create and join
cgroups only under a directory handed to it: one chowned to it on v1, a
delegated subtree on cgroup2.  When cgroup permission errors may be skipped
(pyoci.rootless.skips_cgroups), pyoci does what runc's rootless cgroup
manager does:

- a hierarchy where the container's cgroup may not be created or joined is
  skipped, with a debug record; there the init stays in its creator's
  cgroup, which is what a "cgroup" mount then shows it;
- a linux.cgroupsPath no hierarchy lets it use is an error (runc: a path was
  asked for and permission is denied), so is a limit in linux.resources
  whose controller was skipped; device rules are left out unless the
  caller is the host's root, the only one the kernel lets set them.

Whether a directory is usable is decided before anything is made, by the
kernel's access check with the effective ids: an existing cgroup must let
us write its cgroup.procs; a new one needs its nearest existing ancestor
writable.  So a skip leaves nothing to undo.
"""
import posix  # not os: see pyoci.core.paths

from pyoci import rootless
from pyoci.core import paths
from pyoci.cgroups import own_cgroups, own_path
from pyoci.cgroups.resources import controllers_needed, v1_hierarchy, v2_hierarchy
from pyoci.core.errors import ConfigError


def narrow(dirs, hierarchies, linux, log):
    """(the dirs the container uses, the dirs a "cgroup" mount shows, the
    linux.resources to apply) for dirs, cgroups.resolve()'s answer."""
    usable, shown = {}, {}
    mine = None
    for h in hierarchies:
        directory = dirs[h.mountpoint]
        if may_use(directory):
            usable[h.mountpoint] = shown[h.mountpoint] = directory
            continue
        mine = mine or own_cgroups()
        shown[h.mountpoint] = paths.join(h.mountpoint, own_path(h, mine).lstrip("/"))
        log.debug(f"linux.cgroupsPath: cgroup {directory} skipped: no permission to create or join it (rootless)")
    if not usable:
        if linux.get("cgroupsPath"):
            raise ConfigError(f"linux.cgroupsPath: {linux['cgroupsPath']}: permission denied in every cgroup "
                              f"hierarchy (rootless, euid {posix.geteuid()}): delegate it, or leave cgroupsPath unset")
        if not any(ns["type"] == "pid" and not ns.get("path") for ns in linux.get("namespaces", [])):
            log.warning("linux.namespaces: no pid namespace and no cgroup (rootless): "
                        "kill --all and delete reach only the init, not what it leaves behind")
    return usable, shown, applicable_resources(linux.get("resources", {}), usable, hierarchies, log)


def may_use(directory):
    """Whether this process may join directory, making it if need be."""
    if paths.isdir(directory):
        return posix.access(paths.join(directory, "cgroup.procs"), posix.W_OK, effective_ids=True)
    parent = paths.dirname(directory)
    while parent != "/" and not paths.isdir(parent):
        parent = paths.dirname(parent)
    return posix.access(parent, posix.W_OK | posix.X_OK, effective_ids=True)


def applicable_resources(resources, usable, hierarchies, log):
    """resources without the device rules the caller cannot set; a limit
    in a hierarchy where usable has no cgroup is an error naming its field
    (create, and update of a container created so)."""
    if "devices" in resources and not rootless.privileged():
        log.debug("linux.resources.devices: not applied: only the host's root may set device rules (rootless)")
        resources = {key: value for key, value in resources.items() if key != "devices"}
    for field, v1, v2 in controllers_needed(resources):
        h = hierarchy_for(v1, v2, hierarchies)
        if h is not None and h.mountpoint not in usable:
            raise ConfigError(f"linux.resources.{field}: a rootless container cannot set it: it may not create or "
                              f"join its cgroup in {h.mountpoint} (delegate a cgroup to uid {posix.geteuid()} "
                              f"and set linux.cgroupsPath under it)")
    return resources


def hierarchy_for(v1, v2, hierarchies):
    """The hierarchy that holds a controller: its v1 one, else cgroup2."""
    return v1_hierarchy(hierarchies, v1) or (v2_hierarchy(hierarchies) if v2 is not None else None)
