"""Compile a validated config into the launch plan the shim runs (create).

The order of the steps is the order of the spec's create operation:
namespaces; mounts, devices and symlinks on the rootfs; the createRuntime
sync point (prestart and createRuntime hooks run in the parent); the
createContainer hooks in the container's namespaces; pivot_root; sysctls,
readonly and masked paths, a read-only root; hostname; then the process.
"""

from pyoci.core import mountinfo, paths
from pyoci.plan import mounts as m
from pyoci.plan.devices import compile_devices
from pyoci.plan.namespaces import FLAGS, compile_namespaces, namespace_types
from pyoci.plan.process import add_hook, compile_process
from pyoci.plan.steps import Plan

SYNC_CREATE_RUNTIME = 1
CLONE_NEWCGROUP = FLAGS["cgroup"]

# The spec names four values; runc also takes the r-forms.  Either way they
# apply to the whole tree: "/" of the new namespace is every mount in it.
ROOTFS_PROPAGATION = {
    name: flag | m.MS_REC
    for base, flag in (("shared", m.MS_SHARED), ("slave", m.MS_SLAVE),
                       ("private", m.MS_PRIVATE), ("unbindable", m.MS_UNBINDABLE))
    for name in (base, "r" + base)
}
DEFAULT_ROOTFS_PROPAGATION = "rslave"


def rootfs_path(config, bundle):
    return paths.realpath(paths.join(bundle, config["root"]["path"]))


def parent_mount_point(path):
    """The mount point path is under, from this process's mountinfo."""
    best = "/"
    for point in (mount.point for mount in mountinfo.read()):
        if (path == point or path.startswith(point.rstrip("/") + "/")) and len(point) > len(best):
            best = point
    return best


def compile_rootfs(plan, config, bundle, cgroup_dirs, hierarchies, own_mount_ns):
    linux = config.get("linux", {})
    rootfs = rootfs_path(config, bundle)
    prop_name = linux.get("rootfsPropagation", DEFAULT_ROOTFS_PROPAGATION)
    prop = ROOTFS_PROPAGATION[prop_name]
    if own_mount_ns:
        # An unbindable tree cannot be bind-mounted: keep it private until after pivot_root.
        before = m.MS_PRIVATE | m.MS_REC if prop & m.MS_UNBINDABLE else prop
        plan.add("ROOT_PROPAGATION", f"linux.rootfsPropagation {prop_name}", flags=before)
        if prop & m.MS_SHARED:
            # pivot_root refuses a new root whose parent mount is shared.
            plan.add("MAKE_PARENT_PRIVATE", "linux.rootfsPropagation shared: parent mount",
                     path=parent_mount_point(rootfs))
        plan.add("BIND_ROOTFS", f"root.path {rootfs}: bind mount", rootfs=rootfs, bind=1)
    else:
        # The host's mount namespace: only a read-only root needs a mount of its own.
        readonly = int(bool(config["root"].get("readonly")))
        plan.add("BIND_ROOTFS", f"root.path {rootfs}: open", rootfs=rootfs, bind=readonly)
    # What an idmap mount without mappings of its own takes: a new user namespace's.
    new_userns = namespace_types(config).get("user", "") is None and linux.get("uidMappings")
    container_maps = (linux["uidMappings"], linux.get("gidMappings", [])) if new_userns else None
    for i, mount in enumerate(config.get("mounts", [])):
        if mount.get("type") == "cgroup":
            m.compile_cgroup_mount(plan, mount, i, cgroup_dirs, hierarchies)
        else:
            m.compile_mount(plan, mount, i, bundle, container_maps)

    dests = m.mount_destinations(config)
    dev = dests.get("/dev")
    dev_is_host_bind = bool(dev) and m.parse_options(dev.get("options", []), "mounts").is_bind
    in_userns = "user" in namespace_types(config)
    compile_devices(plan, config, dev_is_host_bind, in_userns)
    if "/dev/pts" in dests and not dev_is_host_bind:
        plan.add("SYMLINK", "/dev/ptmx: symlink", target="pts/ptmx", link="/dev/ptmx")
    return rootfs, prop_name, prop


def compile_plan(config, bundle, log, cgroup_dirs, hierarchies, no_pivot=False, keep_fds=0,
                 new_keyring=True, container_id="", setgroups_allowed=True):
    """The whole plan for `create`; bundle is absolute, cgroup_dirs the
    container's cgroup directory per hierarchy mount point; setgroups_allowed
    is False where the init's user namespace will refuse setgroups
    (pyoci.runtime.idmap)."""
    plan = Plan()
    plan.keep_fds = keep_fds
    compile_namespaces(plan, config)
    linux = config.get("linux", {})
    types = namespace_types(config)
    if plan.cgroupns_late:
        # A cgroup namespace's root is the cgroup its creator is in: make it
        # only after the parent has moved the init into the container's cgroups.
        plan.add("UNSHARE", "linux.namespaces cgroup: unshare", flags=CLONE_NEWCGROUP)

    if new_keyring:
        plan.add("JOIN_KEYRING", "--no-new-keyring not given: new session keyring", name="_ses." + container_id)
    # The spec: a type not listed is the runtime's. Without a mount namespace
    # of its own the container mounts in the host's (delete takes them down)
    # and gets a chroot, never pivot_root or a propagation change on the host.
    own_mount_ns = plan.own_mount_ns = "mount" in types
    rootfs, prop_name, prop = compile_rootfs(plan, config, bundle, cgroup_dirs, hierarchies, own_mount_ns)
    if config.get("hostname") is not None:
        plan.add("SETHOSTNAME", "hostname: sethostname", name=config["hostname"])
    if config.get("domainname") is not None:
        plan.add("SETDOMAINNAME", "domainname: setdomainname", name=config["domainname"])
    if "network" in types and not types["network"]:
        plan.add("LOOPBACK_UP", "linux.namespaces network: loopback up")

    plan.add("SYNC", "hooks.createRuntime", phase=SYNC_CREATE_RUNTIME)
    for i, hook in enumerate(config.get("hooks", {}).get("createContainer", [])):
        add_hook(plan, hook, f"hooks.createContainer[{i}]")

    if not own_mount_ns:
        plan.add("CHROOT", f"root.path {rootfs}: chroot (no mount namespace)", rootfs=rootfs, move=0)
    elif no_pivot:
        plan.add("CHROOT", f"root.path {rootfs}: --no-pivot move mount and chroot", rootfs=rootfs, move=1)
    else:
        plan.add("PIVOT_ROOT", f"root.path {rootfs}: pivot_root", rootfs=rootfs)
    # stdio that is the host's /dev/null (an engine's stdin) becomes the
    # container's, as runc does: a file on a host mount cannot be checkpointed.
    plan.add("REOPEN_DEV_NULL", "stdio: /dev/null of the container")

    for key, value in linux.get("sysctl", {}).items():
        plan.add("WRITE_FILE", f"linux.sysctl.{key}: write", path="/proc/sys/" + key.replace(".", "/"),
                 content=value)
    for i, path in enumerate(linux.get("readonlyPaths", [])):
        plan.add("READONLY_PATH", f"linux.readonlyPaths[{i}] {path}: read-only bind", path=path)
    for i, path in enumerate(linux.get("maskedPaths", [])):
        plan.add("MASK_PATH", f"linux.maskedPaths[{i}] {path}: mask", path=path)
    if config["root"].get("readonly"):
        plan.add("REMOUNT_ROOT_RO", "root.readonly: remount")
    # The new "/" was bound while its parent had to be private (for
    # pivot_root), and unbindable would have stopped the binds above: give
    # the tree its configured propagation last.
    if own_mount_ns:
        plan.add("ROOT_PROPAGATION", f"linux.rootfsPropagation {prop_name}: final", flags=prop)

    # No SELinux on the hosts pyoci supports yet; engines set labels everywhere,
    # so skip them with a record rather than fail (as crun does).
    if (config.get("process") or {}).get("selinuxLabel") or linux.get("mountLabel"):
        log.debug("process.selinuxLabel/linux.mountLabel: no SELinux on this host, labels not applied")
    if config.get("process") is not None:
        compile_process(plan, config, log, setgroups_allowed)
    else:
        # create succeeds; start fails here, as the spec's lifecycle allows.
        plan.add("WAIT_START", "start")
        plan.add("EXEC", "process: config.json has no process to start", args=[], env=[])
    plan.oom_score_adj = (config.get("process") or {}).get("oomScoreAdj")
    return plan

