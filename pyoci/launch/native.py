"""The only module that touches the compiled shim (pyoci._native._shim).

Where it sits: `create` hands a compiled Plan to spawn(); this module packs it
into the C structures (every string allocated before clone, so the child
never allocates) and clones the child.  It also holds the runtime's ends of
the sockets to the child (the sync pair, the start socket): read_message
receives what the child sends back, and pyoci.launch.sync decodes it.
"""
import posix  # not os: see pyoci.core.paths
import sys

from pyoci._constants import EINTR, EINVAL, EMSGSIZE
from pyoci.launch import sync
from pyoci._native._shim import ffi, lib
from pyoci.core.errors import PyociError
from pyoci.plan import ops

# Paths reach pyoci decoded as os.fsdecode decodes (argv, readlink, mountinfo):
# encoded back the same way, a name that is not UTF-8 is the one the kernel gave.
FS_ENCODING = (sys.getfilesystemencoding(), sys.getfilesystemencodeerrors())

# The sync channel's Python side is pyoci.launch.sync, which `start` uses without
# loading the shim; hold it to the C header here, where the shim is loaded.
assert (sync.SIZE, sync.REPLY_SIZE, sync.CHUNK) == (
    ffi.sizeof("struct pyoci_msg"), ffi.sizeof("struct pyoci_reply"), lib.PYOCI_CHUNK)
assert (sync.MSG_USERNS, sync.MSG_PID, sync.MSG_SYNC, sync.MSG_CONSOLE, sync.MSG_READY,
        sync.MSG_ERROR, sync.MSG_SECCOMP, sync.REPLY_ACK, sync.REPLY_STATE) == (
    lib.PYOCI_MSG_USERNS, lib.PYOCI_MSG_PID, lib.PYOCI_MSG_SYNC, lib.PYOCI_MSG_CONSOLE, lib.PYOCI_MSG_READY,
    lib.PYOCI_MSG_ERROR, lib.PYOCI_MSG_SECCOMP, lib.PYOCI_REPLY_ACK, lib.PYOCI_REPLY_STATE)


class _Packer:
    """Builds cffi objects and keeps them alive until the clone is done."""

    def __init__(self):
        self.keep = []

    def cstr(self, value):
        if value is None:
            return ffi.NULL
        if isinstance(value, str):
            value = value.encode(*FS_ENCODING)
        buf = ffi.new("char[]", value)
        self.keep.append(buf)
        return buf

    def strv(self, values):
        arr = ffi.new("char *[]", [self.cstr(v) for v in values] + [ffi.NULL])
        self.keep.append(arr)
        return arr

    def gids(self, values):
        arr = ffi.new("unsigned int[]", values)  # gid_t
        self.keep.append(arr)
        return ffi.cast("char *", arr)


def pack_step(c, st, pk, **given):
    """Fill the struct pyoci_step c from st, each field into the slot
    pyoci.plan.ops gives it (where shim.c's accessors read it); given:
    fields known only now, the FD ones."""
    c.op = ops.CODES[st.op]
    for name, kind in ops.OPS[st.op].items():
        value = given[name] if name in given else st.get(name)
        member, index = ops.slot(st.op, name)
        if kind in (ops.ARGV, ops.ENVP):
            setattr(c, member, ffi.NULL if value is None else pk.strv(value))
        elif kind in (ops.INT, ops.FD):
            c.n[index] = value
        else:
            c.s[index] = pk.gids(value) if kind == ops.GIDS and value is not None else pk.cstr(value)
    c.label = pk.cstr(st.label)


def close_ranges(keep, limit=0xFFFFFFFF):
    """The fd ranges that are not in keep, for close_range(2)."""
    ranges = []
    first = 0
    for fd in sorted(keep):
        if fd > first:
            ranges.append((first, fd - 1))
        first = fd + 1
    ranges.append((first, limit))
    if len(ranges) > 16:
        raise OSError(24, "too many fds to pass to the container")
    return ranges


def spawn(plan, sync_fd, start_fd, cgroup_fd=-1):
    """Clone the container's first process and start it on the plan, in the
    cgroup2 directory cgroup_fd names where the kernel allows it.

    Returns (the pid clone() gave, the init itself unless plan.fork_after;
    whether it was born in cgroup_fd's cgroup)."""
    pk = _Packer()
    launch = ffi.new("struct pyoci_launch *")
    launch.cgroup_fd = cgroup_fd
    launch.clone_flags = plan.clone_flags
    launch.unshare_flags = plan.unshare_flags
    for i, (fd, nstype) in enumerate(plan.joins):
        launch.join_fds[i] = fd
        launch.join_types[i] = nstype
    launch.njoin = len(plan.joins)
    launch.new_userns = int(plan.new_userns)
    launch.fork_after = int(plan.fork_after)
    launch.timens_offsets = pk.cstr(plan.timens_offsets)
    launch.sync_fd = sync_fd
    launch.start_fd = start_fd
    launch.keep_fds = plan.keep_fds
    trees = _idmapped_trees(plan)
    try:
        return _spawn(plan, launch, pk, sync_fd, start_fd, trees)
    finally:
        for fd in trees.values():
            posix.close(fd)  # the child has its copies


def _idmapped_trees(plan):
    """{step index: fd} of the idmapped binds the plan attaches, made here
    in the host's user namespace (the only one that may idmap its mounts)."""
    trees = {}
    try:
        for i, st in enumerate(plan.steps):
            if st.op == "ATTACH_MOUNT":
                fd = idmapped_tree(st.source, st.uid_map, st.gid_map, st.recursive, st.idmap_all)
                if fd < 0:
                    # EINVAL from mount_setattr: a filesystem the kernel cannot idmap (tmpfs before 6.3, overlay before 5.19).
                    why = " (this kernel cannot idmap mounts of that filesystem)" if -fd == EINVAL else ""
                    raise PyociError(f"{st.label}: {posix.strerror(-fd).lower()}{why}")
                trees[i] = fd
    except BaseException:
        for fd in trees.values():
            posix.close(fd)
        raise
    return trees


def _spawn(plan, launch, pk, sync_fd, start_fd, trees):
    own = {fd for fd in (sync_fd, start_fd, *(fd for fd, _ in plan.joins), *trees.values()) if fd >= 0}
    passed = set(range(3, 3 + plan.keep_fds))
    if own & passed:
        # The program would inherit it (pyoci.runtime.passed_fds checks the
        # range before any of these is opened; this is the last line).
        raise PyociError(f"fd {min(own & passed)} is the runtime's own, inside the range passed to the container")
    keep = own | passed | {0, 1, 2}
    ranges = close_ranges(keep)
    for i, (first, last) in enumerate(ranges):
        launch.close_first[i] = first
        launch.close_last[i] = last
    launch.nclose = len(ranges)

    steps = ffi.new("struct pyoci_step[]", max(len(plan.steps), 1))
    for i, st in enumerate(plan.steps):
        pack_step(steps[i], st, pk, **({"tree": trees[i]} if i in trees else {}))
    launch.steps = steps
    launch.nsteps = len(plan.steps)

    pid = lib.pyoci_spawn(launch)
    if pid < 0:
        err = ffi.errno
        raise OSError(err, "clone")
    return pid, bool(launch.in_cgroup)


def reported_pid(msg, clone_pid):
    """The process a MSG_PID names: the clone itself (pid 0), or the process
    it forked to enter a pid namespace, which is the clone's child, or ours
    once the clone has exited (the caller is a subreaper).  A pid that is
    neither did not come from the shim, and is never acted on."""
    if not msg.pid:
        return clone_pid
    from pyoci.core.procfs import parent_pid

    if parent_pid(msg.pid) not in (clone_pid, posix.getpid()):
        raise PyociError(f"the container's process reported pid {msg.pid}, which it did not start")
    return msg.pid


def socket_pair():
    """The sync socket pair: (the runtime's end, the child's end)."""
    fds = ffi.new("int[2]")
    _checked(lib.pyoci_socket_pair(fds), "socketpair")
    return fds[0], fds[1]


def listen(name, backlog):
    """The start socket: listening at name, relative to the working
    directory (see pyoci.state.at_short_path)."""
    return _checked(lib.pyoci_listen(name.encode(), backlog), name)


def connect(name):
    """A connection to the start socket at name (run's start)."""
    return _checked(lib.pyoci_connect(name.encode()), name)


def receive(fd, size):
    """The next packet on a SOCK_SEQPACKET socket, cut at size bytes (a
    caller that must see a longer one asks for a byte more than it takes),
    and the descriptor passed with it, if any: (bytes, [fd]); b"" once the
    peer has gone."""
    buf = ffi.new("char[]", size)
    passed_fd = ffi.new("int *")
    # A signal ends the wait with -EINTR; the loop's next turn runs its
    # Python handler (which may raise) before waiting again, as PEP 475 does.
    while (got := lib.pyoci_receive(fd, buf, size, passed_fd)) == -EINTR:
        pass
    fds = [passed_fd[0]] if passed_fd[0] >= 0 else []
    if got == -EMSGSIZE:
        got = size
    _checked(got, "recvmsg")
    return ffi.buffer(buf, got)[:], fds


def read_message(fd):
    """The child's next message on the sync socket (pyoci.launch.sync.Message), or
    None once it has gone away; ProtocolError for a packet that is not one."""
    data, fds = receive(fd, sync.SIZE + 1)  # one byte more: a longer packet is cut, and seen to be
    return sync.decode(data, fds) if data else None


def _checked(result, what):
    """The result of a shim call that returns -errno on failure; OSError
    naming what on one."""
    if result < 0:
        raise OSError(-result, posix.strerror(-result), what)
    return result


def idmapped_tree(source, uid_map, gid_map, recursive, idmap_all):
    """pyoci_idmapped_tree (shim.h): the fd of a detached idmapped copy of
    the mount at source, or -errno."""
    return lib.pyoci_idmapped_tree(source.encode(), uid_map.encode(), gid_map.encode(), recursive, idmap_all)


def attach_device_program(cgroup_dir, code, replacing, sole):
    """pyoci_device_program_attach (shim.h): the program's id, or -errno."""
    return lib.pyoci_device_program_attach(cgroup_dir.encode(), ffi.from_buffer(code), len(code) // 8, replacing,
                                           int(sole))


def set_subreaper():
    if lib.pyoci_set_subreaper() < 0:
        raise OSError(ffi.errno, "prctl(PR_SET_CHILD_SUBREAPER)")


def setns(fd, nstype):
    if lib.pyoci_setns(fd, nstype) < 0:
        err = ffi.errno
        raise OSError(err, posix.strerror(err))


def umount(path):
    if lib.pyoci_umount(path.encode(*FS_ENCODING)) < 0:
        err = ffi.errno
        raise OSError(err, posix.strerror(err), path)
