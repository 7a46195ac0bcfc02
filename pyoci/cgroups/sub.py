"""exec --cgroup: run the new process in an existing sub-cgroup of the container's.

Where it sits: `exec` computes the directories before it spawns anything, so
a bad argument fails with nothing started; the exec'd process is then moved
into them instead of the container's own cgroups.  The arguments are runc's:
one or more "controller[,controller]:path", or a single "path" for every
hierarchy.  On cgroup2 a controller names the one hierarchy when the
container's cgroup there has it (cgroup.controllers), so "memory,pids:sub"
means the same on a v1 and a pure v2 host.
"""
from pyoci.core import paths
from pyoci.core.errors import PyociError


def parse(specs):
    """{controller: path} of --cgroup's arguments; "" is every hierarchy."""
    subs = {}
    for spec in specs:
        controllers, sep, path = spec.partition(":")
        if not sep:
            if len(specs) != 1:
                raise PyociError(f"--cgroup {spec}: needs a controller: prefix when --cgroup is given more than once")
            subs[""] = spec
            continue
        for controller in controllers.split(","):
            if not controller:
                raise PyociError(f"--cgroup {spec}: empty controller name")
            if controller in subs:
                raise PyociError(f"--cgroup: controller {controller} given more than once")
            subs[controller] = path
    return subs


def sub_cgroup_dirs(specs, dirs, found):
    """The container's cgroup directories (dirs, {mountpoint: dir}) with the
    sub-cgroups specs name in place of theirs; found is the host's
    hierarchies.  Each must stay under the container's cgroup and exist."""
    subs = parse(specs)
    chosen = dict(dirs)
    unmatched = set(subs) - {""}
    for h in found:
        base = dirs.get(h.mountpoint)
        if base is None:
            continue
        controllers = _v2_controllers(base) if h.v2 else h.controllers
        named = {subs[c] for c in controllers if c in subs}
        unmatched -= set(controllers)
        if len(named) > 1:
            given = ",".join(sorted(c for c in controllers if c in subs))
            raise PyociError(f"--cgroup: {given} share a hierarchy but were given different paths")
        sub = named.pop() if named else subs.get("")
        if sub is None:
            continue
        target = paths.normpath(paths.join(base, sub.lstrip("/")))
        if target != base and not target.startswith(base + "/"):
            raise PyociError(f"--cgroup {sub}: not a sub-cgroup of the container's")
        if not paths.isdir(target):
            raise PyociError(f"--cgroup {sub}: {target}: no such cgroup")
        chosen[h.mountpoint] = target
    if unmatched:
        raise PyociError(f"--cgroup: the container has no cgroup for controller {', '.join(sorted(unmatched))}")
    return chosen


def _v2_controllers(directory):
    try:
        with open(paths.join(directory, "cgroup.controllers")) as f:
            return frozenset(f.read().split())
    except FileNotFoundError:  # a stand-in tree in the unit tests
        return frozenset()
