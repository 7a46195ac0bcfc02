"""`exec`: run a process in a created or running container and, unless
--detach, wait for it and return its exit status.

The plan (pyoci.plan.exec) goes to the shim as create's does; the parent
moves the new process into the container's cgroups when it reports its pid,
forwards its pty master to --console-socket and a seccomp notify fd to the
agent, and sees the exec happen when the sync socket closes (its end is
close-on-exec in the child).  As a child subreaper, it collects a process
that joining a pid namespace made its grandchild.
"""
import posix  # not os: see pyoci.core.paths
from _signal import SIGKILL  # not signal: see pyoci.runtime.kill

from pyoci import cgroups
from pyoci.launch import native, steps, sync, warmup
from pyoci.core.errors import PyociError, WrongState
from pyoci.core.log import log
from pyoci.plan.exec import compile_exec_plan
from pyoci.plan.namespaces import close_joins
from pyoci.plan.tuning import exec_cpu_affinity
from pyoci.runtime import passed_fds
from pyoci.runtime.wait import forward_signals, wait_for
from pyoci.state import Container, write_pid_file


class ExecOptions:
    def __init__(self, cgroup_dirs, detach=False, pid_file=None, console_socket=None, preserve_fds=0,
                 pidfd_socket=None, paused=False):
        self.cgroup_dirs = cgroup_dirs  # {mountpoint: dir} to join: the container's, or --cgroup's
        self.paused = paused  # exec --ignore-paused into a frozen container
        self.detach = detach
        self.pid_file = pid_file
        self.console_socket = console_socket
        self.preserve_fds = preserve_fds
        self.pidfd_socket = pidfd_socket


def container_for_exec(root, container_id, ignore_paused):
    container = Container(root, container_id)
    container.load()
    status = container.status()
    if status == "paused" and not ignore_paused:
        raise WrongState(f"cannot exec in container {container_id}: it is paused (--ignore-paused to do it anyway)")
    if status not in ("created", "running", "paused"):
        raise WrongState(f"cannot exec in container {container_id}: it is {status}")
    return container, status


def execute(container, config, process, opts):
    """Run process in container (whose config is config); returns the exit
    status (0 with --detach, once the process runs)."""
    record = container.record
    if process.get("terminal") and not opts.console_socket:
        raise PyociError("--tty: a terminal needs --console-socket")
    passed_fds.check_open(passed_fds.FIRST, opts.preserve_fds, "--preserve-fds")
    plan = compile_exec_plan(config, process, record["pid"], log, keep_fds=opts.preserve_fds)
    initial, final = exec_cpu_affinity(process)
    if initial:
        # Inherited by the process until it is in the container's cgroups.
        set_affinity(0, initial, "process.execCPUAffinity.initial")
    native.set_subreaper()
    sync_fd, child_fd = native.socket_pair()
    pid = clone_pid = 0
    try:
        # Born in a frozen cgroup, the child could not even report its pid:
        # into a paused container (--ignore-paused) it joins after, as before.
        v2_mount = record.get("cgroup", {}).get("v2")  # None in a record from before it was kept
        cgroup_fd = -1 if opts.paused else cgroups.open_v2_dir(opts.cgroup_dirs, v2_mount)
        try:
            clone_pid, born_in_cgroup = native.spawn(plan, child_fd, -1, cgroup_fd)
            steps.reached("exec:cloned")
        finally:
            posix.close(child_fd)  # the child has its copy: its exec or exit ends the sync socket
            if cgroup_fd >= 0:
                posix.close(cgroup_fd)
        close_joins(plan)
        to_join = {m: d for m, d in opts.cgroup_dirs.items() if not (born_in_cgroup and m == v2_mount)}
        pid = _answer(sync_fd, clone_pid, record, to_join, config, opts, final)
    except BaseException:
        for p in {pid, clone_pid} - {0}:
            try:
                posix.kill(p, SIGKILL)
            except ProcessLookupError:
                pass
        raise
    finally:
        close_joins(plan)
        posix.close(sync_fd)
    if plan.fork_after:
        posix.waitpid(clone_pid, 0)  # the middle process has exited
    if opts.pid_file:
        write_pid_file(opts.pid_file, pid)
    if opts.pidfd_socket:
        from pyoci.launch.handover import send_pidfd

        send_pidfd(opts.pidfd_socket, pid)
    if opts.detach:
        return 0
    forward_signals(pid)
    return wait_for(pid)


def _answer(sync_fd, clone_pid, record, to_join, config, opts, final_cpus):
    """Serve the child's messages until it execs (EOF); the pid it reported.
    to_join: the cgroups it was not born in; final_cpus:
    process.execCPUAffinity.final, set once it is in its cgroups."""
    pid = clone_pid
    while True:
        msg = native.read_message(sync_fd)
        if msg is None:
            return pid
        if msg.type == sync.MSG_PID:
            steps.reached("exec:pid-received")
            pid = native.reported_pid(msg, clone_pid)
            cgroups.join(to_join, pid)
            steps.reached("exec:cgroups-joined")
            if final_cpus:
                set_affinity(pid, final_cpus, "process.execCPUAffinity.final")
            warmup.end()  # the launcher's helper kept the lock ready for this join
            sync.ack(sync_fd)
        elif msg.type == sync.MSG_CONSOLE:
            from pyoci.launch.handover import send_fd

            try:
                send_fd(opts.console_socket, b"/dev/ptmx", msg.fds[0], "--console-socket")
            finally:
                for fd in msg.fds:
                    posix.close(fd)
            sync.ack(sync_fd)
        elif msg.type == sync.MSG_SECCOMP:
            from pyoci.launch.handover import send_seccomp_fd

            send_seccomp_fd(msg.fds, config, pid, _exec_state(record))
            sync.ack(sync_fd)
        elif msg.type == sync.MSG_ERROR:
            raise PyociError(msg.describe())
        else:
            raise PyociError(f"exec: unexpected message {msg.type} from the new process")


def set_affinity(pid, cpus, field):
    try:
        posix.sched_setaffinity(pid, cpus)
    except OSError as e:
        raise PyociError(f"{field}: sched_setaffinity: {posix.strerror(e.errno).lower()}") from None


def _exec_state(record):
    return {"ociVersion": record["ociVersion"], "id": record["id"], "status": "running", "pid": record["pid"],
            "bundle": record["bundle"], "annotations": record.get("annotations", {})}
