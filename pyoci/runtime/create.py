"""`create`: everything but the user's program (the parent side).

Validates the bundle, compiles the plan, makes the state directory and the
cgroups (rootless: those it may use, pyoci.cgroups.delegation), clones the
init through the shim and answers its sync points (id maps, cgroup join,
prestart/createRuntime hooks, the console, the seccomp notify fd for the
agent).  When the init says it is ready and waits for `start`, the state
is written and create returns.  Any failure undoes all of it: the init is
killed, its cgroups and state directory removed, so nothing is left behind.

A create killed outright (SIGKILL: nothing runs) cannot undo itself: before
each thing it makes outside the state directory, it records what delete
needs to find it (pyoci.state's cleanup.json), so `delete --force` removes
whatever it got to.  The steps.reached calls mark those steps for the tests.
"""
import posix  # not os: see pyoci.core.paths
import _signal as signal  # not `signal`, which builds enums on import (see bench/README.md)
import sys
import time

from pyoci import SPEC_VERSION, cgroups, rootless
from pyoci.core import paths
from pyoci.launch import native, steps, sync, warmup
from pyoci.cgroups import resources
from pyoci.core.errors import PyociError
from pyoci.core.jsonio import dumps
from pyoci.core.log import log
from pyoci.plan.compile import compile_plan, rootfs_path
from pyoci.plan.namespaces import close_joins
from pyoci.runtime import passed_fds
from pyoci.runtime.idmap import init_may_setgroups, write_id_maps
from pyoci.spec.load import load_bundle_config
from pyoci.core.procfs import process_start_time
from pyoci.state import CLEANUP_KEYS, START_SOCKET, Container, at_short_path, write_pid_file


def rfc3339_now():
    ns = time.time_ns()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // 10**9)) + ".%09dZ" % (ns % 10**9)


class Options:
    def __init__(self, bundle=".", console_socket=None, pid_file=None, no_pivot=False,
                 preserve_fds=0, keep_master=False, systemd_cgroup=False, new_keyring=True, dry_run=False,
                 pidfd_socket=None, rootless="auto"):
        self.bundle = paths.abspath(bundle)
        self.console_socket = console_socket
        self.pid_file = pid_file
        self.no_pivot = no_pivot
        self.preserve_fds = preserve_fds
        # `run` in the foreground proxies the terminal itself.
        self.keep_master = keep_master
        self.systemd_cgroup = systemd_cgroup
        self.new_keyring = new_keyring
        # Print the launch plan instead of creating anything.
        self.dry_run = dry_run
        self.pidfd_socket = pidfd_socket
        # --rootless true|false|auto: may cgroups the caller cannot use be skipped?
        self.rootless = rootless


class Creation:
    """One create in progress; undo() leaves nothing behind."""

    def __init__(self, root, container_id, opts):
        self.container = Container(root, container_id)
        self.opts = opts
        self.clone_pid = 0
        self.init_pid = 0
        self.cgroup_dirs = {}
        self.shown_dirs = {}  # what a "cgroup" mount shows: cgroup_dirs, or the caller's where skipped
        self.cgroups_made = []
        self.owns_cgroup = False  # True once this create has made every cgroup of the container (pyoci.runtime.members)
        self.born_in = None  # the hierarchy whose cgroup the init was cloned into (CLONE_INTO_CGROUP)
        self.hierarchies = []
        self.master_fd = None
        self.record = None
        self.host_mounts = None  # {"rootfs", "before"} when the host's mount namespace is shared
        self.device_program = None  # the id of the cgroup v2 device program attached, for update to replace
        self.oom_kills_before = 0  # the OOM kill count of a memory cgroup this create did not make

    def run(self):
        opts = self.opts
        hierarchies = self.hierarchies = cgroups.hierarchies()
        config = load_bundle_config(opts.bundle)
        steps.reached("create:validated")
        process = config.get("process") or {}
        if process.get("terminal") and not (opts.console_socket or opts.keep_master):
            raise PyociError("process.terminal: a terminal needs --console-socket")
        if process.get("terminal") and opts.keep_master:
            from pyoci.launch.terminal import require_host_terminal

            require_host_terminal()
        if opts.console_socket and not process.get("terminal"):
            raise PyociError("--console-socket: process.terminal is false, there is no console to send")
        nfds = passed_fds.listen_fds()
        passed_fds.check_open(passed_fds.FIRST + nfds, opts.preserve_fds, "--preserve-fds")
        if nfds and config.get("process"):
            process.setdefault("env", []).extend([f"LISTEN_FDS={nfds}", "LISTEN_PID=1"])
        linux = config.get("linux", {})
        limits = linux.get("resources", {})
        resources.check_supported(limits)
        if posix.geteuid() != 0:
            rootless.check_config(config)
        cgroup_dirs = cgroups.resolve(linux.get("cgroupsPath"), self.container.id, hierarchies, opts.systemd_cgroup)
        shown_dirs = cgroup_dirs  # what a "cgroup" mount shows the container
        if rootless.skips_cgroups(opts.rootless):
            from pyoci.cgroups import delegation

            cgroup_dirs, shown_dirs, limits = delegation.narrow(cgroup_dirs, hierarchies, linux, log)
        plan = compile_plan(config, opts.bundle, log, shown_dirs, hierarchies,
                            no_pivot=opts.no_pivot, keep_fds=nfds + opts.preserve_fds,
                            new_keyring=opts.new_keyring, container_id=self.container.id,
                            setgroups_allowed=init_may_setgroups(config, log))
        steps.reached("create:planned")
        if opts.dry_run:
            close_joins(plan)
            sys.stdout.write(plan.describe() + "\n")
            return None
        try:
            self.container.make()
            steps.reached("create:directory-made")
            if not plan.own_mount_ns:
                from pyoci.runtime import hostmounts

                rootfs = rootfs_path(config, opts.bundle)
                self.host_mounts = {"rootfs": rootfs, "before": hostmounts.snapshot(rootfs)}
            self.cgroup_dirs, self.shown_dirs = cgroup_dirs, shown_dirs
            # Recorded, here and for undo, before any is made: a signal or a
            # kill halfway through making them loses none.
            self.cgroups_made = cgroups.missing(cgroup_dirs, hierarchies)
            self.owns_cgroup = all(d in self.cgroups_made for d in cgroup_dirs.values())
            self.container.save_cleanup({"pid": 0, "init_start_time": 0, "cgroup": self._cgroup_record(),
                                         "host_mounts": self.host_mounts})
            steps.reached("create:cleanup-recorded")
            cgroups.create(cgroup_dirs, hierarchies, self.cgroups_made)
            steps.reached("create:cgroups-made")
            if not self.owns_cgroup:
                warn_if_shared(cgroup_dirs, self.cgroups_made)
            self.device_program = resources.apply(limits, cgroup_dirs, hierarchies, linux.get("devices", []),
                                                  self.cgroups_made)
            steps.reached("create:resources-applied")
            if not self.owns_cgroup:
                self.oom_kills_before = self._oom_kills()
            self._launch(config, plan)
        finally:
            close_joins(plan)
        return self.container

    def _launch(self, config, plan):
        if plan.fork_after:
            # The init is the clone's child, and ours once the clone exits:
            # how reported_pid knows the pid it reports is the init's.
            native.set_subreaper()
        sync_fd, child_fd = native.socket_pair()
        try:
            try:
                start_fd = at_short_path(self.container.dir, START_SOCKET, lambda name: native.listen(name, 4))
                v2_mount = cgroups.v2_mountpoint(self.hierarchies)
                cgroup_fd = cgroups.open_v2_dir(self.cgroup_dirs, v2_mount)
                try:
                    self.clone_pid, born_in_cgroup = native.spawn(plan, child_fd, start_fd, cgroup_fd)
                    self.born_in = v2_mount if born_in_cgroup else None
                    steps.reached("create:cloned")
                finally:
                    posix.close(start_fd)
                    if cgroup_fd >= 0:
                        posix.close(cgroup_fd)
            finally:
                posix.close(child_fd)  # the child has its copy: its exit ends the sync socket
            close_joins(plan)
            try:
                self._answer(sync_fd, config, plan)
            except sync.ChildGone:
                raise self._init_gone(config) from None
        finally:
            posix.close(sync_fd)

    def _answer(self, sync_fd, config, plan):
        """Serve the child's sync points, on the sync socket sync_fd, until it
        waits for start."""
        while True:
            msg = native.read_message(sync_fd)
            if msg is None:
                raise sync.ChildGone()
            if msg.type == sync.MSG_USERNS:
                write_id_maps(self.clone_pid, plan)
                sync.ack(sync_fd)
            elif msg.type == sync.MSG_PID:
                steps.reached("create:pid-received")
                self._got_pid(native.reported_pid(msg, self.clone_pid), config, plan, sync_fd)
            elif msg.type == sync.MSG_SYNC:
                # runtime-spec lifecycle: the environment exists after step 2,
                # and "created" is the status from then on; the prestart,
                # createRuntime and createContainer hooks (steps 3-5) read it.
                # (runc passes "creating" here; the spec and crun say created.)
                state = self._runtime_hooks(config)
                steps.reached("create:hooks-run")
                sync.send_state(sync_fd, dumps(state))
            elif msg.type == sync.MSG_CONSOLE:
                self._got_console(msg.fds)
                sync.ack(sync_fd)
            elif msg.type == sync.MSG_SECCOMP:
                from pyoci.launch.handover import send_seccomp_fd

                send_seccomp_fd(msg.fds, config, self.init_pid, self.container.spec_state("creating"))
                sync.ack(sync_fd)
            elif msg.type == sync.MSG_READY:
                steps.reached("create:ready-received")
                self._ready()
                return
            elif msg.type == sync.MSG_ERROR:
                raise PyociError(msg.describe() + capability_hint(msg, plan))

    def _init_gone(self, config):
        """The error for an init that went away before it was ready, naming
        why: the OOM killer (the count in its cgroup went up: a memory limit
        too small for even the runtime's part of the init), or how it ended.
        Read once it has ended, while its cgroup and its exit status are
        still there: undo removes the one and reaps the other."""
        status = exit_status(self.init_pid or self.clone_pid)
        if self._oom_kills() > self.oom_kills_before:
            limit = config.get("linux", {}).get("resources", {}).get("memory", {}).get("limit", -1)
            hint = f": linux.resources.memory.limit {limit} is too small" if limit >= 0 else ""
            return PyociError(f"the container's init was killed by the OOM killer during create{hint}")
        if status is None:
            return PyociError("container init exited during create")
        if status < 0:
            return PyociError(f"container init was killed by signal {-status} during create")
        return PyociError(f"container init exited with status {status} during create")

    def _oom_kills(self):
        from pyoci.cgroups.stats import oom_kills

        return oom_kills(resources.v1_dir(self.cgroup_dirs, self.hierarchies, "memory"),
                         resources.v2_dir(self.cgroup_dirs, self.hierarchies))

    def _got_pid(self, pid, config, plan, sync_fd):
        if plan.fork_after:
            posix.waitpid(self.clone_pid, 0)  # the middle process has exited
        self._join_cgroups(pid)
        steps.reached("create:cgroups-joined")
        # The init goes on with its mounts while the rest is done here: none
        # of it matters to the init before the next sync point.
        sync.ack(sync_fd)
        self._record_init(pid, config, plan)

    def _took_init(self, pid, config, plan):
        """The init exists in its namespaces: move it into the container's
        cgroups and record it (restore, for the init CRIU made)."""
        self._join_cgroups(pid)
        self._record_init(pid, config, plan)

    def _join_cgroups(self, pid):
        self.init_pid = pid
        cgroups.join({m: d for m, d in self.cgroup_dirs.items() if m != self.born_in}, pid)
        warmup.end()  # the lock it kept ready is taken

    def _record_init(self, pid, config, plan):
        """oom_score_adj, network devices, and the state record (status
        creating) of the init, which is in its cgroups."""
        if plan.oom_score_adj is not None:
            try:
                with open(f"/proc/{pid}/oom_score_adj", "w") as f:
                    f.write(str(plan.oom_score_adj))
            except OSError as e:
                raise PyociError(f"process.oomScoreAdj: {posix.strerror(e.errno).lower()}") from None
        net_devices = config.get("linux", {}).get("netDevices")
        if net_devices:
            from pyoci.network_devices import move_devices

            move_devices(net_devices, pid)
        started = process_start_time(pid)
        self.record = {
            "ociVersion": SPEC_VERSION,
            "id": self.container.id,
            "pid": pid,
            "init_start_time": started[0] if started else 0,
            "status": "creating",
            "bundle": self.opts.bundle,
            "rootfs": rootfs_path(config, self.opts.bundle),
            "created": rfc3339_now(),
            "owner": "",
            "annotations": config.get("annotations", {}),
            "hooks": {k: v for k, v in config.get("hooks", {}).items() if k in ("poststart", "poststop")},
            # "shown": checkpoint names the "cgroup" mount's binds to CRIU from it.
            "cgroup": {**self._cgroup_record(pid), "shown": self.shown_dirs,
                       # exec clones into it without reading mountinfo again.
                       "v2": cgroups.v2_mountpoint(self.hierarchies),
                       # update builds the v2 device program as create did, in place of create's.
                       "devices": resources.device_record(config.get("linux", {}).get("devices", []),
                                                          self.device_program)},
            # What `update` merges into (memory.checkBeforeUpdate, the swap limit in force).
            "resources": config.get("linux", {}).get("resources", {}),
            # What `exec` takes from the config as create saw it: the
            # namespaces to join, the seccomp profile, the process template,
            # the personality and memory policy.
            "exec": {"process": config.get("process") or {},
                     "linux": {key: config["linux"][key] for key in ("namespaces", "seccomp", "personality",
                                                                     "memoryPolicy")
                               if key in config.get("linux", {})}},
            "host_mounts": self.host_mounts,
            # The spec lets create succeed without a process; start must then fail.
            "has_process": config.get("process") is not None,
        }
        if not (self.owns_cgroup and self.cgroup_dirs):
            # In cgroups of its own the init is found without its pid (delete
            # ends all that is in them): the first cleanup.json says enough,
            # and create is a synced write shorter.
            self.container.save_cleanup({key: self.record[key] for key in CLEANUP_KEYS})
        steps.reached("create:init-recorded")
        self.container.save(self.record)
        steps.reached("create:state-written")

    def _cgroup_record(self, init_pid=0):
        """The container's cgroups as delete takes them down, and what
        pyoci.runtime.members needs to tell its processes from others there."""
        record = {"dirs": self.cgroup_dirs, "owned": self.owns_cgroup, "made": self.cgroups_made,
                  "freezers": cgroups.freezer_files(self.cgroup_dirs, self.hierarchies)}
        if not self.owns_cgroup and init_pid:
            from pyoci.runtime.members import own_pid_namespace

            record["pidns"] = own_pid_namespace(init_pid)
        return record


    def _runtime_hooks(self, config):
        """Run the prestart and createRuntime hooks on the state "created";
        that state (createContainer's hooks read it too)."""
        state = self.container.spec_state("created")
        hooks = config.get("hooks")
        if hooks:
            from pyoci.hooks import run_hooks

            run_hooks(hooks, "prestart", state)
            run_hooks(hooks, "createRuntime", state)
        return state

    def _got_console(self, fds):
        if not fds:
            raise PyociError("process.terminal: no pty master received")
        for extra in fds[1:]:  # one master is all a console message has
            posix.close(extra)
        if self.opts.keep_master:
            self.master_fd = fds[0]
            return
        try:
            from pyoci.launch.handover import send_fd

            send_fd(self.opts.console_socket, b"/dev/ptmx", fds[0], "--console-socket")
        finally:
            posix.close(fds[0])

    def _ready(self):
        del self.record["status"]
        self.container.save(self.record)
        steps.reached("create:created")
        if self.opts.pid_file:
            write_pid_file(self.opts.pid_file, self.init_pid)
        if self.opts.pidfd_socket:
            from pyoci.launch.handover import send_pidfd

            send_pidfd(self.opts.pidfd_socket, self.init_pid)

    def undo(self):
        doomed = {self.init_pid, self.clone_pid} - {0}
        if self.cgroup_dirs and not self.owns_cgroup:
            from pyoci.runtime.members import container_pids

            # Found while the init lives: its pid namespace or its children say which they are.
            doomed.update(container_pids(self._cgroup_record(self.init_pid), self.init_pid))
        for pid in doomed:
            try:
                posix.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in {self.init_pid, self.clone_pid} - {0}:
            try:
                posix.waitpid(pid, 0)
            except ChildProcessError:
                pass
        if self.cgroup_dirs:
            if self.owns_cgroup:
                for pid in cgroups.pids(self.cgroup_dirs):
                    try:
                        posix.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            cgroups.remove_made(self.cgroups_made, self.cgroup_dirs)
        if self.host_mounts:
            from pyoci.runtime import hostmounts

            hostmounts.detach_new(**self.host_mounts)
        if self.master_fd is not None:
            posix.close(self.master_fd)
        self.container.remove()
        self.container.unlock()


def warn_if_shared(dirs, made):
    """A cgroupsPath that names a cgroup holding processes already: allowed,
    as runc allows it, with runc's warning; those processes stay out of the
    container's kill --all and delete (pyoci.runtime.members)."""
    from pyoci.runtime.members import populated_by_others

    for directory, count in populated_by_others(dirs, made).items():
        log.warning(f"linux.cgroupsPath: cgroup {directory} is not empty: {count} process(es) that are not the "
                    "container's are in it; kill --all and delete leave them alone")


def exit_status(pid):
    """How the child pid ended: its exit status, or -N if signal N killed
    it; None if it is not ours to wait for.  It waits for the exit (the
    sync socket closes just before) but leaves the child to undo to reap:
    reaped here, its pid could be another process's by the time undo kills it."""
    try:
        info = posix.waitid(posix.P_PID, pid, posix.WEXITED | posix.WNOWAIT)
    except ChildProcessError:
        return None
    return info.si_status if info.si_code == posix.CLD_EXITED else -info.si_status


def capability_hint(msg, plan):
    """capset fails with EPERM when a set asks for more than the runtime's own
    bounding set holds: say which capabilities those are."""
    if msg.err != 1 or not 0 <= msg.step < len(plan.steps) or plan.steps[msg.step].op != "CAPS":
        return ""
    from pyoci.security.capabilities import names

    with open("/proc/self/status") as f:
        bounding = int(next(line for line in f if line.startswith("CapBnd:")).split()[1], 16)
    caps = plan.steps[msg.step]
    missing = names((caps.effective | caps.permitted | caps.inheritable) & ~bounding)
    return f" ({', '.join(missing)} not in the runtime's bounding set)" if missing else ""


class Interrupted(PyociError):
    pass


def _interrupted(signum, _frame):
    raise Interrupted(f"create interrupted by signal {signum}")


def create(root, container_id, opts, kind=Creation):
    """Create the container; on any failure nothing is left behind.

    SIGTERM and SIGHUP (an engine giving up, a closed terminal) unwind
    through the same undo as an error, instead of ending the interpreter
    with a half-made container.  kind: restore's Creation, whose init
    comes from CRIU instead of the shim."""
    creation = kind(root, container_id, opts)
    previous = {sig: signal.signal(sig, _interrupted) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        container = creation.run()
    except BaseException:
        # Not locked: the id was taken by another container, which stays.
        if creation.container.locked:
            creation.undo()
        raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if container is not None:
        container.unlock()
    return container, creation
