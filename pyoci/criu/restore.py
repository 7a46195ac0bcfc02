"""`restore`: a container made again from `checkpoint`'s CRIU images
(checkpoint/restore; the create of a restored container).

It is `create` with CRIU in the shim's place: the bundle is validated, the
state directory and cgroups made and the resources applied as for create
(pyoci.runtime.create.Creation); then CRIU, started inside the new
cgroups, restores the process tree with the rootfs as its root and with
the mounts, namespaces and stdio from outside mapped onto this config and
this command (pyoci.criu.externals), its cgroups onto the new
container's.  Once CRIU has made the namespaces (its setup-namespaces
step) pyoci records the init, brings the loopback of the network namespace
CRIU left empty up (as create does) and runs the prestart and
createRuntime hooks, as runc does.  CRIU runs through its RPC
(pyoci.criu.rpc), which tells that step as a notification, and hands a
restored pty's new master over: it goes to --console-socket as create's
does.  The init is this command's child (CRIU restores it as
its own sibling), so without --detach restore waits for it as `run` does.
A failure is undone as a failed create is.
"""
import posix  # not os: see pyoci.core.paths

from pyoci import cgroups
from pyoci._constants import IFF_RUNNING, IFF_UP, SIOCGIFFLAGS, SIOCSIFFLAGS

from pyoci.criu import options as criu, rpc as criu_rpc
from pyoci.core import paths
from pyoci.core.procfs import namespace_inode, open_namespace
from pyoci.launch import native
from pyoci.core.errors import PyociError
from pyoci.plan.compile import rootfs_path
from pyoci.plan.namespaces import namespace_types
from pyoci.criu import externals
from pyoci.runtime.create import Creation, Options, create
from pyoci.runtime.run import wait_then_delete

LOG_FILE = "restore.log"


class RestoreOptions(Options):
    """create's options, and CRIU's."""

    def __init__(self, criu_binary, criu_options, **create_options):
        super().__init__(**create_options)
        self.criu_binary = criu_binary
        self.criu = criu_options


class Restoration(Creation):
    """A create whose init CRIU restores."""

    def _launch(self, config, plan):
        opts = self.opts
        wanted = opts.criu
        rootfs = rootfs_path(config, opts.bundle)
        externals.make_mount_points(config, opts.bundle, rootfs)
        if wanted.work_path:
            criu.make_dir(wanted.work_path, "--work-path")
        args = ["--root", rootfs]
        args += criu.shared_args(wanted)
        args += externals.inherit_stdio(wanted.image_path)
        args += externals.restore_mounts(config, opts.bundle, self.shown_dirs, self.hierarchies)
        args += externals.cgroup_roots(self.cgroup_dirs, self.hierarchies)
        if wanted.lsm_profile:
            args += ["--lsm-profile", wanted.lsm_profile]
        if wanted.lsm_mount_context:
            args += ["--lsm-mount-context", wanted.lsm_mount_context]
        ns_args, ns_fds = externals.restore_namespaces(config)
        args += ns_args
        try:
            worker = criu_rpc.Worker(opts.criu_binary, wanted, LOG_FILE, args,
                                     criu.config_file(config.get("annotations", {})), pass_fds=ns_fds,
                                     preexec_fn=self._criu_joins_cgroups)
        finally:
            for fd in ns_fds:
                posix.close(fd)
        # CRIU's sibling, so this command's child: without --detach,
        # restore waits for it as run does.
        answer = worker.call(criu_rpc.RESTORE, sibling=True, notify=lambda script, pid, fds: self._notified(
            script, pid, fds, config, plan))
        pid = criu_rpc.restored_pid(answer)
        if pid != self.init_pid:  # CRIU had no namespaces to make
            self._namespaces_made(pid, config, plan)
        self._note_time_namespace(pid)
        self._ready()

    def _criu_joins_cgroups(self):
        """In CRIU's process before it runs: the tasks it forks start in the
        container's cgroups, as runc has it."""
        try:
            cgroups.join(self.cgroup_dirs, posix.getpid())
        except PyociError as e:
            # subprocess says only "Exception occurred in preexec_fn": say what.
            posix.write(2, f"pyoci: restore: {e}\n".encode())
            raise

    def _notified(self, script, pid, fds, config, plan):
        """What CRIU's RPC tells: the steps of its restore (setup-namespaces),
        and the restored pty's new master, which goes to --console-socket as
        create's does."""
        if script == "orphan-pts-master":
            self._got_console(fds)
            return
        for fd in fds:
            posix.close(fd)
        if script == "setup-namespaces":
            self._namespaces_made(pid, config, plan)

    def _namespaces_made(self, pid, config, plan):
        self._took_init(pid, config, plan)
        types = namespace_types(config)
        if "network" in types and not types["network"]:
            loopback_up(pid)
        self._runtime_hooks(config)

    def _note_time_namespace(self, pid):
        """CRIU restores the tree in a time namespace of its own (its clocks
        go on from the checkpoint's): exec must join it too, as runc does."""
        ns = self.record["exec"]["linux"].setdefault("namespaces", [])
        if any(n["type"] == "time" for n in ns):
            return
        if namespace_inode(pid, "time") != namespace_inode("self", "time"):
            ns.append({"type": "time"})


def loopback_up(pid):
    """Bring lo up in pid's network namespace, as create's LOOPBACK_UP step does."""
    import _socket
    import fcntl
    import struct

    from pyoci.network_devices import inside

    def up():
        sock = _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM)
        try:
            flags = struct.unpack_from("16sh", fcntl.ioctl(sock.fileno(), SIOCGIFFLAGS,
                                                           struct.pack("16sh22x", b"lo", 0)))[1]
            fcntl.ioctl(sock.fileno(), SIOCSIFFLAGS, struct.pack("16sh22x", b"lo", flags | IFF_UP | IFF_RUNNING))
        finally:
            sock.close()

    target = open_namespace(pid, "net")
    try:
        inside(target, up)
    finally:
        posix.close(target)


def restore(root, container_id, opts, detach=False, subreaper=True):
    """Restore the container from opts.criu.image_path; its exit status
    unless detach."""
    if not paths.isdir(opts.criu.image_path):
        raise PyociError(f"--image-path: {opts.criu.image_path}: no such directory")
    opts.criu_binary = criu.find_binary(opts.criu_binary)
    if subreaper and not detach:
        native.set_subreaper()
    container, _creation = create(root, container_id, opts, kind=Restoration)
    if detach:
        return 0
    return wait_then_delete(root, container_id, container.record["pid"])
