"""The id maps of a new user namespace (create: the parent writes them at the
child's MSG_USERNS sync point, while the child waits).

Root writes /proc/<pid>/uid_map and gid_map itself.  An unprivileged user
may write a single line that maps its own id and nothing else, and gid_map
only once setgroups is denied (Linux 3.19: otherwise the container could
drop a group that denies it access on the host).  Any other mapping goes
through the setuid newuidmap/newgidmap (Debian package uidmap), which allow
the ranges /etc/subuid and /etc/subgid give the user.  As runc does: the
direct write first, the helper when the kernel says EPERM.
"""
import posix  # not os: see pyoci.core.paths

from pyoci import rootless
from pyoci.core import paths
from pyoci.core.errors import PyociError
from pyoci.plan.mounts import id_map_text
from pyoci.plan.namespaces import setgroups_allowed

# file, its config field, the plan's attribute, the helper for an unprivileged caller
FILES = (("uid_map", "linux.uidMappings", "uid_mappings", "newuidmap"),
         ("gid_map", "linux.gidMappings", "gid_mappings", "newgidmap"))


def own_id_only(mappings, own_id):
    """A mapping an unprivileged user may write without a helper."""
    return len(mappings) == 1 and mappings[0]["hostID"] == own_id and mappings[0]["size"] == 1


def denies_setgroups(gid_mappings):
    """Whether pyoci will deny setgroups in the new namespace: an
    unprivileged caller writing its own gid map.  (With newgidmap, the helper
    decides: it allows setgroups when a /etc/subgid range is mapped.)"""
    return posix.geteuid() != 0 and own_id_only(gid_mappings, posix.getegid())


def init_may_setgroups(config, log):
    """Whether the init may call setgroups (process.user.additionalGids).
    Root may, unless it runs in a user namespace that denies it (a new one
    inherits that); an unprivileged caller only in a new namespace whose
    setgroups it did not deny itself (in a joined one, as in runc, never)."""
    if posix.geteuid() == 0:
        # The initial user namespace always allows it: no file to read there.
        allowed = not rootless.in_user_namespace() or setgroups_allowed()
    else:
        linux = config.get("linux", {})
        new_userns = any(ns["type"] == "user" and not ns.get("path") for ns in linux.get("namespaces", []))
        allowed = new_userns and not denies_setgroups(linux.get("gidMappings", []))
    if not allowed and (config.get("process") or {}).get("user", {}).get("additionalGids"):
        log.warning("process.user.additionalGids: not set: setgroups is denied in the container's user "
                    "namespace, which keeps the groups it started with (map a /etc/subgid range to set them)")
    return allowed


def write_id_maps(pid, plan):
    if denies_setgroups(plan.gid_mappings):
        try:
            _write(pid, "setgroups", "deny")
        except OSError as e:
            raise PyociError(f"linux.gidMappings: writing setgroups: {posix.strerror(e.errno).lower()}") from None
    for name, field, attribute, helper in FILES:
        mappings = getattr(plan, attribute)
        try:
            _write(pid, name, id_map_text(mappings))
        except OSError as e:
            import errno  # an error's path only: not loaded by every create

            # EPERM: more than the caller's own id, which only the helper may map.
            if e.errno != errno.EPERM or posix.geteuid() == 0:
                raise PyociError(f"{field}: writing {name}: {posix.strerror(e.errno).lower()}") from None
            _run_helper(helper, pid, mappings, field)


def _write(pid, name, text):
    with open(f"/proc/{pid}/{name}", "w") as f:
        f.write(text)


def _run_helper(helper, pid, mappings, field):
    path = paths.which(helper)
    if path is None:
        raise PyociError(f"{field}: an unprivileged user may map only its own id without {helper}, "
                         f"which is not installed (Debian package uidmap)")
    args = [path, str(pid)] + [str(m[key]) for m in mappings for key in ("containerID", "hostID", "size")]
    status, output = _run(args)
    if status != 0:
        said = output.decode(errors="replace").strip().replace("\n", "; ")
        raise PyociError(f"{field}: {' '.join(args)}: exit {status}: {said} "
                         f"(are the ranges in /etc/subuid and /etc/subgid?)")


def _run(args):
    """(exit status, stdout and stderr) of args, with stdin on /dev/null, an
    empty environment and no descriptor of ours but the output pipe (the
    helper is setuid root; --preserve-fds ones are the container's).
    posix_spawn, not subprocess, whose import every create that maps a
    /etc/subuid range (rootless podman's) would pay: see bench/README.md."""
    ours = [int(fd) for fd in posix.listdir("/proc/self/fd")]
    read_end, write_end = posix.pipe()
    try:
        actions = [(posix.POSIX_SPAWN_OPEN, 0, "/dev/null", posix.O_RDONLY, 0),
                   (posix.POSIX_SPAWN_DUP2, write_end, 1), (posix.POSIX_SPAWN_DUP2, write_end, 2)]
        # Close-on-exec ones go by themselves.
        actions += [(posix.POSIX_SPAWN_CLOSE, fd) for fd in ours
                    if fd > 2 and fd not in (read_end, write_end) and _inheritable(fd)]
        child = posix.posix_spawn(args[0], args, {}, file_actions=actions)
    finally:
        posix.close(write_end)
    try:
        output = b""
        while chunk := posix.read(read_end, 65536):
            output += chunk
    finally:
        posix.close(read_end)
    return posix.waitstatus_to_exitcode(posix.waitpid(child, 0)[1]), output


def _inheritable(fd):
    try:
        return posix.get_inheritable(fd)
    except OSError:  # the listing's own descriptor, closed since
        return False
