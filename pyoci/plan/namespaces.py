"""linux.namespaces -> how the shim clones, joins and unshares (create).

Joining by path must come before creating anything new: a namespace made
first would own the child, and setns() into the host's namespaces from a new
user namespace is refused.  So a config that joins anything clones plainly,
joins (user first), then unshares the rest; one with only new namespaces
lets clone() make them all at once.  A pid namespace (new after clone, or
joined) and a new time namespace only apply to children: one more fork makes
the container's init.
"""
import fcntl
import posix  # not os: see pyoci.core.paths

# type -> CLONE_NEW*, from the headers at build time (pyoci/_native/constants.py)
from pyoci._constants import NAMESPACES as FLAGS, NS_GET_NSTYPE
from pyoci.core.errors import ConfigError

# Joining order: user first (it decides what we may do in the others), mount
# last (its paths were opened before, but keep the host view for the rest).
JOIN_ORDER = ("user", "ipc", "uts", "network", "pid", "cgroup", "time", "mount")


def setgroups_allowed(pid="self"):
    """Whether process pid's user namespace lets it call setgroups: not when
    its /proc/<pid>/setgroups says deny (an unprivileged map's, inherited)."""
    try:
        with open(f"/proc/{pid}/setgroups") as f:
            return f.read().strip() != "deny"
    except OSError:
        return True


def namespace_types(config):
    return {ns["type"]: ns.get("path") for ns in config.get("linux", {}).get("namespaces", [])}


def _open_namespace(kind, path, index):
    field = f"linux.namespaces[{index}].path"
    try:
        fd = posix.open(path, posix.O_RDONLY | posix.O_CLOEXEC)
    except OSError as e:
        raise ConfigError(f"{field}: {path}: {posix.strerror(e.errno).lower()}") from None
    try:
        actual = fcntl.ioctl(fd, NS_GET_NSTYPE)
    except OSError:
        posix.close(fd)
        raise ConfigError(f"{field}: {path} is not a namespace") from None
    if actual != FLAGS[kind]:
        posix.close(fd)
        name = next((k for k, v in FLAGS.items() if v == actual), hex(actual))
        raise ConfigError(f"{field}: {path} is a {name} namespace, not {kind}")
    return fd


def compile_namespaces(plan, config):
    """Fill the plan's clone/unshare/join fields; opens the join fds."""
    entries = config.get("linux", {}).get("namespaces", [])
    new = [ns["type"] for ns in entries if not ns.get("path")]
    joined = {ns["type"]: (ns["path"], i) for i, ns in enumerate(entries) if ns.get("path")}
    new_flags = 0
    for kind in new:
        if kind != "cgroup":  # unshared by a step, after the cgroup join
            new_flags |= FLAGS[kind]
    plan.cgroupns_late = "cgroup" in new

    try:
        for kind in JOIN_ORDER:
            if kind in joined:
                path, index = joined[kind]
                plan.joins.append((_open_namespace(kind, path, index), FLAGS[kind]))
                plan.join_paths.append((kind, path))
    except ConfigError:
        close_joins(plan)
        raise

    if not joined and "time" not in new:
        plan.clone_flags = new_flags
    else:
        plan.unshare_flags = new_flags
        plan.fork_after = "pid" in new or "time" in new or "pid" in joined
    plan.new_userns = "user" in new

    offsets = config.get("linux", {}).get("timeOffsets")
    if offsets and "time" in new:
        plan.timens_offsets = "".join(
            f"{clock} {v.get('secs', 0)} {v.get('nanosecs', 0)}\n" for clock, v in offsets.items()
        )
    linux = config.get("linux", {})
    plan.uid_mappings = linux.get("uidMappings", [])
    plan.gid_mappings = linux.get("gidMappings", [])


def close_joins(plan):
    for fd, _kind in plan.joins:
        posix.close(fd)
    plan.joins = []
