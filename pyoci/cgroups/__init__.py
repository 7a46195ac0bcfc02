"""Cgroups for a container: where they go, creating, joining, removing (create, kill --all, delete).

The layout is detected from /proc/self/mountinfo, never assumed: v1 (one
hierarchy per controller), unified v2, or hybrid (v1 controllers plus a
cgroup2 mount, joined too as runc does).  linux.cgroupsPath is taken from
each hierarchy's root when absolute; absent, it is "<id>" relative, as runc
does.  A relative path is taken from this process's own cgroup in a v1
hierarchy, and from that cgroup's parent in cgroup2 (runc's rule): on v2 a
caller's own cgroup (a session scope, a service) holds processes, and the
kernel lets no cgroup with processes hand controllers to its children.

pyoci writes cgroup.subtree_control only in the cgroups it creates and in
the root, never in another existing one (above all not the caller's): a
controller an existing ancestor does not hand down is an error naming that
cgroup, not something pyoci turns on (pyoci.cgroups.resources.hand_down).
"""
import posix  # not os: see pyoci.core.paths
import time

from pyoci.core.errors import PyociError
from pyoci.core import paths
from pyoci.core.procfs import own_cgroup_lines
from pyoci.launch import steps
from pyoci.state import write_all


class Hierarchy:
    __slots__ = ("mountpoint", "controllers", "v2")

    def __init__(self, mountpoint, controllers, v2):
        self.mountpoint = mountpoint
        self.controllers = controllers
        self.v2 = v2

    @property
    def has_controllers(self):
        """A v1 hierarchy with a controller in it, not only a name=."""
        return not self.v2 and any(not c.startswith("name=") for c in self.controllers)


def hierarchies():
    from pyoci.core import mountinfo  # here: delete, kill and pause use the recorded dirs and never read it

    return find_hierarchies(mountinfo.read())


def find_hierarchies(mounts):
    """One Hierarchy per cgroup hierarchy among mounts: a controller set
    (or cgroup2) mounted again elsewhere, e.g. inside a container's rootfs
    that shares this mount namespace, is the same hierarchy, and its first
    mount of the whole tree (root "/") is the one to use."""
    found = {}
    for m in mounts:
        if m.fstype == "cgroup2":
            key, h = "cgroup2", Hierarchy(m.point, frozenset(), True)
        elif m.fstype == "cgroup":
            # A named hierarchy (name=systemd) has no controller but is joined
            # too, as runc does: systemd tracks a v1 host's services there, and
            # a container left in its engine's unit dies when the unit stops.
            controllers = frozenset(o for o in m.super_options if o not in ("rw", "ro") and not o.startswith(("release_agent", "clone_children", "noprefix", "xattr")))
            if not controllers:
                continue
            key, h = controllers, Hierarchy(m.point, controllers, False)
        else:
            continue
        if m.root == "/" and key not in found:
            found[key] = h
    return list(found.values())


def own_cgroups():
    """This process's cgroup per v1 controller, and '' for v2."""
    mine = {}
    for controllers, path in own_cgroup_lines():
        for c in (controllers.split(",") if controllers else [""]):
            mine[c] = path
    return mine


def own_path(h, mine):
    """This process's cgroup in hierarchy h; mine is own_cgroups()."""
    if h.v2:
        return mine.get("", "/")
    return next((mine[c] for c in h.controllers if c in mine), "/")


def relative_base(h, mine):
    """Where a relative cgroupsPath starts in hierarchy h: this process's own
    cgroup on v1; its parent on v2, where our own cgroup holds processes and
    so can enable no controller for a child (the no-internal-process rule).
    This is runc's rule; a process in the root cgroup gets the root."""
    own = own_path(h, mine)
    return paths.dirname(own) if h.v2 else own


def systemd_path(cgroups_path, container_id):
    """--systemd-cgroup's "slice:prefix:name" as the cgroupfs path systemd
    would give it: the slice nested by its dashes, then prefix-name.scope.
    (pyoci writes cgroupfs itself; it does not ask systemd for a scope.)"""
    parts = (cgroups_path or f"system.slice:pyoci:{container_id}").split(":")
    if len(parts) != 3 or any("/" in part for part in parts):
        raise PyociError(f"linux.cgroupsPath: {cgroups_path!r} is not slice:prefix:name, with no '/' in a part "
                         "(--systemd-cgroup)")
    slice_name, prefix, name = parts
    slice_name = slice_name or "system.slice"
    if not slice_name.endswith(".slice"):
        raise PyociError(f"linux.cgroupsPath: {slice_name!r} is not a slice name")
    stem = slice_name[: -len(".slice")]
    words = [] if stem == "-" else stem.split("-")  # "-.slice" is the root slice
    nested = ["-".join(words[:i]) + ".slice" for i in range(1, len(words) + 1)]
    leaf = name if name.endswith(".slice") else f"{prefix}-{name}.scope" if prefix else f"{name}.scope"
    return "/" + "/".join(nested + [leaf])


def resolve(cgroups_path, container_id, found, systemd=False):
    """{mountpoint: directory} for every hierarchy in found (hierarchies()).

    The path is cleaned as a rooted one, as runc cleans it: ".." stops at
    the hierarchy's root, so no cgroupsPath reaches a directory outside the
    cgroup filesystem (where pyoci would make directories and write files
    as root).  One that names a hierarchy's root is refused: the container
    would take over every process on the host."""
    path = systemd_path(cgroups_path, container_id) if systemd else (cgroups_path or container_id)
    rooted = paths.normpath("/" + path)
    mine = own_cgroups() if not path.startswith("/") else {}
    dirs = {}
    for h in found:
        base = "/" if path.startswith("/") else relative_base(h, mine)
        d = paths.join(h.mountpoint, paths.normpath(base + rooted).lstrip("/"))
        if d.rstrip("/") == h.mountpoint.rstrip("/"):
            raise PyociError(f"linux.cgroupsPath: {path!r} is the root of the cgroup hierarchy at {h.mountpoint}; "
                             "a container needs a cgroup of its own")
        dirs[h.mountpoint] = d
    return dirs


def write_file(path, value):
    """Write value to a cgroup's file.  Never O_CREAT: a cgroup's files
    exist, and a file that does not is not a cgroup's, so nothing is made."""
    fd = posix.open(path, posix.O_WRONLY | posix.O_TRUNC | posix.O_NOFOLLOW | posix.O_CLOEXEC)
    try:
        write_all(fd, str(value).encode())
    finally:
        posix.close(fd)


def _fill_cpuset(directory, mountpoint):
    """A new v1 cpuset cgroup starts with no cpus or mems and refuses
    processes: inherit them from the nearest ancestor, top down."""
    if directory == mountpoint or not directory.startswith(mountpoint):
        return
    _fill_cpuset(paths.dirname(directory), mountpoint)
    parent = paths.dirname(directory)
    for name in ("cpuset.cpus", "cpuset.mems"):
        with open(paths.join(directory, name)) as f:
            if f.read().strip():
                continue
        with open(paths.join(parent, name)) as f:
            value = f.read().strip()
        write_file(paths.join(directory, name), value)


def missing(dirs, hierarchies):
    """The cgroups in dirs that do not exist yet, with their missing
    parents, deepest first: what create() makes and, in that order, what
    remove_made() takes down.  create records them before it makes any
    (pyoci.runtime.create), so that a create killed midway leaves nothing
    that delete cannot find."""
    planned = []
    for h in hierarchies:
        d = dirs.get(h.mountpoint)
        while d is not None and not paths.isdir(d) and d.startswith(h.mountpoint + "/"):
            planned.append(d)
            d = paths.dirname(d)
    return sorted(planned, key=lambda d: d.count("/"), reverse=True)


def create(dirs, hierarchies, planned):
    """Make the planned cgroups (missing(dirs, hierarchies)), parents first;
    dirs may leave out hierarchies (pyoci.cgroups.delegation skips those a
    rootless container may not use).  On an error the caller removes what
    was planned, made or not."""
    for d in reversed(planned):
        try:
            posix.mkdir(d, 0o755)
        except OSError as e:
            raise PyociError(f"linux.cgroupsPath: cannot create cgroup {d}: "
                             f"{posix.strerror(e.errno).lower()}") from None
        steps.reached("cgroups:dir-made", d)
    for h in hierarchies:
        if "cpuset" in h.controllers and h.mountpoint in dirs:
            _fill_cpuset(dirs[h.mountpoint], h.mountpoint)


def v2_mountpoint(found):
    """cgroup2's mount point among the hierarchies found, or None."""
    return next((h.mountpoint for h in found if h.v2), None)


def open_v2_dir(dirs, mountpoint):
    """An fd of the container's directory in the cgroup2 hierarchy mounted at
    mountpoint, for create and exec to clone their process straight into
    (CLONE_INTO_CGROUP); -1 without one."""
    if mountpoint not in dirs:
        return -1
    try:
        return posix.open(dirs[mountpoint], posix.O_RDONLY | posix.O_DIRECTORY | posix.O_CLOEXEC)
    except OSError:
        return -1  # the plain clone, and join reports what is wrong


def join(dirs, pid):
    for d in dirs.values():
        try:
            write_file(paths.join(d, "cgroup.procs"), pid)
        except OSError as e:
            raise PyociError(f"linux.cgroupsPath: joining {d}: {posix.strerror(e.errno).lower()}"
                             f"{_join_refused_because(d, e.errno)}") from None


def _join_refused_because(directory, err):
    """The cgroup v2 rule behind a refused join, in words; "" for others."""
    import errno  # an error's path only: not loaded by every delete
    try:
        with open(paths.join(directory, "cgroup.type")) as f:
            kind = f.read().strip()
        with open(paths.join(directory, "cgroup.subtree_control")) as f:
            handed_down = f.read().split()
    except OSError:  # v1, or the root: no such rules
        return ""
    if err == errno.EOPNOTSUPP and kind != "domain":
        return f" (it is {kind}: only a domain or threaded cgroup takes processes; set linux.cgroupsPath elsewhere)"
    if err == errno.EBUSY and handed_down:
        return (f" (it enables {' '.join(handed_down)} for its children, and cgroup v2 lets no such cgroup hold "
                f"processes: the no-internal-process rule)")
    return ""


def pids(dirs):
    """Host pids of every process in the container's cgroup and in the
    sub-cgroups under it (exec --cgroup's, or ones made inside)."""
    for d in dirs.values():
        found = _procs_under(d)
        if found is not None:
            return found
    return []


def kill_all(dirs):
    """SIGKILL every process in the container's cgroup2 cgroup and below it
    in one step, through cgroup.kill (Linux 5.14): nothing can fork its way
    past it, and no pid is read and then reused.  False where the kernel or
    the layout has no cgroup.kill; the caller then signals pid by pid."""
    for d in dirs.values():
        try:
            fd = posix.open(paths.join(d, "cgroup.kill"), posix.O_WRONLY | posix.O_CLOEXEC)  # never O_CREAT
        except FileNotFoundError:
            continue
        try:
            posix.write(fd, b"1")
        finally:
            posix.close(fd)
        return True
    return False


def _procs_under(directory):
    try:
        with open(paths.join(directory, "cgroup.procs")) as f:
            found = [int(p) for p in f.read().split()]
    except FileNotFoundError:
        return None
    for sub in _sub_cgroups(directory):
        found += _procs_under(sub) or []
    return found


def _sub_cgroups(directory):
    try:
        with posix.scandir(directory) as entries:
            return [e.path for e in entries if e.is_dir(follow_symlinks=False)]
    except FileNotFoundError:
        return []


def remove_made(made, dirs):
    """Undo create(): the container's own cgroups (dirs' values) go with
    whatever is left under them; a parent pyoci made goes only while it is
    empty, since a neighbour's cgroup may have been made under it since."""
    leaves = set(dirs.values())
    remove_dirs([d for d in made if d in leaves])
    for d in made:
        if d not in leaves:
            try:
                posix.rmdir(d)
            except OSError as e:
                import errno  # an error's path only: not loaded by every delete

                if e.errno not in (errno.ENOENT, errno.EBUSY, errno.ENOTEMPTY):
                    raise


def remove_dirs(made, attempts=50):
    """rmdir each cgroup; one that is busy has sub-cgroups, removed first,
    or processes that just died and keep it briefly.  One still busy after
    that is an error: delete must not say it is done."""
    for d in made:
        for _ in range(attempts):
            try:
                posix.rmdir(d)
                break
            except FileNotFoundError:
                break
            except OSError as e:
                import errno  # an error's path only: not loaded by every delete

                if e.errno != errno.EBUSY:
                    raise
                subs = _sub_cgroups(d)  # only now: scanning every cgroup slows delete (bench/README.md)
                if subs:
                    remove_dirs(subs, attempts)
                else:
                    time.sleep(0.01)
        else:
            raise PyociError(f"cgroup {d}: still has processes; delete again once they are gone")


def freezer_files(dirs, found):
    """The files that say whether the container is frozen: freezer.state in
    the v1 freezer hierarchy, cgroup.freeze in v2.  create records them, so
    that a status check (pyoci.state) reads these and nothing else."""
    return [paths.join(dirs[h.mountpoint], "cgroup.freeze" if h.v2 else "freezer.state")
            for h in found if (h.v2 or "freezer" in h.controllers) and h.mountpoint in dirs]
