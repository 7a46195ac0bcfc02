"""Messages from the container's init to the runtime (create, start).

The init (C, in the shim) reports each sync point and any failed step as a
fixed-size struct pyoci_msg over a SOCK_SEQPACKET socket: to `create` over
the sync socket (pyoci.native.read_message receives them), to `start` over
the start socket.  Decoding them needs no shim, so `start` never loads it.
"""
import posix  # not os: see pyoci.paths

# enum pyoci_msg_type in _native/shim.h (pyoci.native checks they agree)
MSG_USERNS, MSG_PID, MSG_SYNC, MSG_CONSOLE, MSG_READY, MSG_ERROR, MSG_SECCOMP = range(1, 8)

# struct pyoci_msg: int type, step, err, status, pid; char label[500].
# Decoded with memoryview casts (C ints, native order), not the struct
# module: one shared library less to load on every create and start.
_INTS = 5
SIZE = _INTS * 4 + 500


def c_ints(data):
    """The C ints packed in data (a multiple of 4 bytes)."""
    return memoryview(data).cast("i").tolist()


class Message:
    __slots__ = ("type", "step", "err", "status", "pid", "label", "fds")

    def __init__(self, data, fds=()):
        self.type, self.step, self.err, self.status, self.pid = c_ints(data[:_INTS * 4])
        self.label = data[_INTS * 4:SIZE].split(b"\0", 1)[0].decode(errors="replace")
        self.fds = list(fds)

    def describe(self):
        """A failed step as the user reads it: 'mounts[3] /proc: mount: no such device'."""
        if self.status:
            if posix.WIFEXITED(self.status):
                return f"{self.label}: exit status {posix.WEXITSTATUS(self.status)}"
            return f"{self.label}: killed by signal {posix.WTERMSIG(self.status)}"
        return f"{self.label}: {posix.strerror(self.err).lower()}"

