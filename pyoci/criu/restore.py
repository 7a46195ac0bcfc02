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
createRuntime hooks, as runc does.  A container with a terminal is
restored through CRIU's RPC (pyoci.criu.rpc), which tells that step too,
and hands over the restored pty's new master: it goes to --console-socket
as create's does.  The init is this command's child (CRIU restores it as
its own sibling), so without --detach restore waits for it as `run` does.
A failure is undone as a failed create is.
"""
import posix  # not os: see pyoci.core.paths

from pyoci import cgroups

from pyoci.criu import command as criu, rpc as criu_rpc
from pyoci.core import paths
from pyoci.launch import native
from pyoci.core.errors import PyociError
from pyoci.plan.compile import rootfs_path
from pyoci.plan.namespaces import namespace_types
from pyoci.criu import externals
from pyoci.runtime.create import Creation, Options, create
from pyoci.runtime.run import wait_then_delete
from pyoci.state import atomic_write

LOG_FILE = "restore.log"
PID_FILE = "criu.pid"
NOTIFY_FIFO = "criu-notify"
REPLY_FIFO = "criu-reply"
ACTION_SCRIPT = "criu-action"

SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1
IFF_RUNNING = 0x40

# CRIU runs its action scripts with none of its descriptors open: this one
# reaches pyoci through two FIFOs in the state directory, and fails the
# restore unless pyoci answers ok.
SCRIPT = """#!/bin/sh
[ "$CRTOOLS_SCRIPT_ACTION" = setup-namespaces ] || exit 0
echo "$CRTOOLS_INIT_PID" > {notify}
read -r answer < {reply}
[ "$answer" = ok ]
"""


class RestoreOptions(Options):
    """create's options, and CRIU's."""

    def __init__(self, criu_binary, criu_options, **create_options):
        super().__init__(**create_options)
        self.criu_binary = criu_binary
        self.criu = criu_options


class Notifications:
    """CRIU's setup-namespaces step, told by the action script.

    pyoci holds both FIFOs open read-write: the script then never waits for
    pyoci to open an end, and CRIU's exit (a pidfd), not an end of file,
    says that no more will come."""

    def __init__(self, directory):
        self.paths = [paths.join(directory, name) for name in (NOTIFY_FIFO, REPLY_FIFO, ACTION_SCRIPT)]
        self.fds = []

    @property
    def script(self):
        return self.paths[2]

    def __enter__(self):
        import shlex

        notify, reply, script = self.paths
        for fifo in (notify, reply):
            posix.mkfifo(fifo, 0o600)
            self.fds.append(posix.open(fifo, posix.O_RDWR | posix.O_NONBLOCK | posix.O_CLOEXEC))
        atomic_write(script, SCRIPT.format(notify=shlex.quote(notify), reply=shlex.quote(reply)), 0o700)
        return self

    def __exit__(self, *_exc):
        for fd in self.fds:
            posix.close(fd)
        for path in self.paths:
            try:
                posix.unlink(path)
            except FileNotFoundError:
                pass

    def serve(self, proc, at_setup_namespaces):
        """Answer the script until CRIU exits; the handler's error, if it failed."""
        import select

        notify_fd, reply_fd = self.fds
        pidfd = posix.pidfd_open(proc.pid)
        poller = select.poll()
        poller.register(notify_fd, select.POLLIN)
        poller.register(pidfd, select.POLLIN)
        failure = None
        pending = b""
        try:
            while True:
                ready = dict(poller.poll())
                if notify_fd in ready:
                    pending += posix.read(notify_fd, 4096)
                    while b"\n" in pending:
                        line, _, pending = pending.partition(b"\n")
                        if failure is None:
                            try:
                                at_setup_namespaces(int(line))
                            except (PyociError, OSError, ValueError) as e:
                                failure = e
                        posix.write(reply_fd, b"fail\n" if failure else b"ok\n")
                elif pidfd in ready:
                    return failure
        finally:
            posix.close(pidfd)


class Restoration(Creation):
    """A create whose init CRIU restores."""

    def _launch(self, config, plan):
        opts = self.opts
        wanted = opts.criu
        rootfs = rootfs_path(config, opts.bundle)
        externals.make_mount_points(config, opts.bundle, rootfs)
        if wanted.work_path:
            criu.make_dir(wanted.work_path, "--work-path")
        pid_file = paths.join(self.container.dir, PID_FILE)
        args = ["--root", rootfs, "--restore-detached", "--restore-sibling", "--pidfile", pid_file]
        args += criu.shared_args(wanted, LOG_FILE)
        args += externals.inherit_stdio(wanted.image_path)
        args += externals.restore_mounts(config, opts.bundle, self.shown_dirs, self.hierarchies)
        args += externals.cgroup_roots(self.cgroup_dirs, self.hierarchies)
        if wanted.lsm_profile:
            args += ["--lsm-profile", wanted.lsm_profile]
        if wanted.lsm_mount_context:
            args += ["--lsm-mount-context", wanted.lsm_mount_context]
        config_file = criu.config_file(config.get("annotations", {}))
        ns_args, ns_fds = externals.restore_namespaces(config)
        args += ns_args
        worker = None
        try:
            if (config.get("process") or {}).get("terminal"):
                worker = criu_rpc.Worker(opts.criu_binary, args, config_file, pass_fds=ns_fds,
                                         preexec_fn=self._criu_joins_cgroups)
                proc = worker.proc
                failure = worker.call(criu_rpc.RESTORE, notify=lambda script, pid, fds: self._notified(
                    script, pid, fds, config, plan))
            else:
                with Notifications(self.container.dir) as channel:
                    proc = criu.start(opts.criu_binary, "restore", args + ["--action-script", channel.script],
                                      config_file, pass_fds=ns_fds, preexec_fn=self._criu_joins_cgroups)
                    try:
                        failure = channel.serve(proc, lambda pid: self._namespaces_made(pid, config, plan))
                    finally:
                        if proc.poll() is None:  # interrupted: CRIU must not go on alone
                            proc.kill()
                        proc.wait()
            if failure:
                raise failure
            criu.finish(proc, "restore", paths.join(wanted.log_dir, LOG_FILE), worker.said if worker else None)
        finally:
            for fd in ns_fds:
                posix.close(fd)
        with open(pid_file) as f:
            pid = int(f.read())
        posix.unlink(pid_file)
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
        """What CRIU's RPC tells: the steps its action scripts would be told,
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
        if posix.stat(f"/proc/{pid}/ns/time").st_ino != posix.stat("/proc/self/ns/time").st_ino:
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

    target = posix.open(f"/proc/{pid}/ns/net", posix.O_RDONLY | posix.O_CLOEXEC)
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
