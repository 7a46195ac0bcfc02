"""Rootless: what changes when pyoci runs unprivileged (the default --root
of every command; create's checks and its cgroup policy).

Two questions, answered separately as runc answers them:

- Is the caller unprivileged (euid != 0)?  Then the container needs a user
  namespace, the ids it may map are limited (pyoci.runtime.idmap), and its
  mounts' uid=/gid= options must name ids mapped in it.
- May cgroups the caller has no permission for be skipped
  (pyoci.cgroups.delegation)?  `--rootless true|false` says so; `auto`
  means yes for an unprivileged caller and for root inside a user
  namespace, whose "root" owns no cgroup it was not handed.

Nothing here runs for start, state, kill or delete, apart from the check
behind the default --root, and only for root with $XDG_RUNTIME_DIR set.
"""
import posix  # not os: see pyoci.core.paths

from pyoci.core.errors import ConfigError, PyociError
from pyoci.core.paths import makedirs
from pyoci.core.procfs import namespace_inode

# The inode of the initial user namespace (PROC_USER_INIT_INO), fixed since Linux 3.8.
INITIAL_USER_NS_INODE = 0xEFFFFFFD


def in_user_namespace():
    """True inside any user namespace but the initial one (a container's,
    rootlesskit's), whatever its mapping."""
    # No answer from procfs (None) counts as the initial namespace, as runc
    # counts it, though it hands a namespaced root the host's defaults.
    inode = namespace_inode("self", "user")
    return inode is not None and inode != INITIAL_USER_NS_INODE


def honor_xdg_runtime_dir():
    """Whether the default --root is $XDG_RUNTIME_DIR/pyoci (when set): for
    an unprivileged caller, and for root in a user namespace unless $USER
    says root; the host's root keeps /run/pyoci even with /run/user/0 set."""
    if posix.geteuid() != 0:
        return True
    if not in_user_namespace():
        return False
    return posix.environ.get(b"USER") != b"root"


def make_xdg_root(root):
    """The default rootless --root, made 0700 with the sticky bit, which
    keeps the XDG runtime directory's periodic clean-up away from it."""
    try:
        makedirs(root, 0o700)
        posix.chmod(root, 0o1700)
    except OSError as e:
        raise PyociError(f"--root {root} (in $XDG_RUNTIME_DIR): {posix.strerror(e.errno).lower()}") from None


def skips_cgroups(setting):
    """--rootless true|false|auto: may cgroup permission errors be skipped?"""
    if setting != "auto":
        return setting == "true"
    return posix.geteuid() != 0 or in_user_namespace()


def privileged():
    """Root of the initial user namespace: the only caller the kernel lets
    set device cgroup rules (v1 devices.allow, a v2 BPF program)."""
    return posix.geteuid() == 0 and not in_user_namespace()


def check_config(config):
    """runc's checks for an unprivileged caller: a user namespace (new ones
    with both mappings), and uid=/gid= mount options it maps."""
    linux = config.get("linux", {})
    users = [ns for ns in linux.get("namespaces", []) if ns["type"] == "user"]
    euid = posix.geteuid()
    if not users:
        raise ConfigError(f"linux.namespaces: a rootless container (euid {euid}) needs a user namespace")
    if users[0].get("path"):
        return  # joined: its owner mapped it
    for field in ("uidMappings", "gidMappings"):
        if not linux.get(field):
            raise ConfigError(f"linux.{field}: a rootless container needs at least one mapping")
    for i, mount in enumerate(config.get("mounts", [])):
        for option in mount.get("options", []):
            kind, _, value = option.partition("=")
            field = {"uid": "uidMappings", "gid": "gidMappings"}.get(kind)
            if field and value.isdigit() and not _mapped(int(value), linux[field]):
                raise ConfigError(f"mounts[{i}].options: {option}: {kind} {value} is not mapped "
                                  f"in the container (linux.{field})")


def _mapped(container_id, mappings):
    return any(m["containerID"] <= container_id < m["containerID"] + m["size"] for m in mappings)
