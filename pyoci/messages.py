"""Messages from the container's init to the runtime (create, start).

The init (C, in the shim) reports each sync point and any failed step as a
fixed-size struct pyoci_msg over a SOCK_SEQPACKET socket: to `create` over
the sync socket, to `start` over the start socket.  Decoding them needs no
shim, so `start` never loads it.
"""
import posix  # not os: see pyoci.paths
import _socket  # not `socket`, which imports enum (a few ms per command)
import struct

# enum pyoci_msg_type in _native/shim.h (pyoci.native checks they agree)
MSG_USERNS, MSG_PID, MSG_SYNC, MSG_CONSOLE, MSG_READY, MSG_ERROR = range(1, 7)

# struct pyoci_msg: type, step, err, status, pid, label[500]
_MSG = struct.Struct("5i500s")
SIZE = _MSG.size


class Message:
    __slots__ = ("type", "step", "err", "status", "pid", "label", "fds")

    def __init__(self, data, fds=()):
        self.type, self.step, self.err, self.status, self.pid, label = _MSG.unpack(data)
        self.label = label.split(b"\0", 1)[0].decode(errors="replace")
        self.fds = list(fds)

    def describe(self):
        """A failed step as the user reads it: 'mounts[3] /proc: mount: no such device'."""
        if self.status:
            if posix.WIFEXITED(self.status):
                return f"{self.label}: exit status {posix.WEXITSTATUS(self.status)}"
            return f"{self.label}: killed by signal {posix.WTERMSIG(self.status)}"
        return f"{self.label}: {posix.strerror(self.err).lower()}"


def read_message(sock):
    """Next message from the child, or None once it has gone away."""
    fds = []
    try:
        data, anc, _flags, _addr = sock.recvmsg(_MSG.size, _socket.CMSG_SPACE(4))
    except ConnectionResetError:
        return None
    for level, kind, payload in anc:
        if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS:
            fds.extend(struct.unpack("%di" % (len(payload) // 4), payload[: len(payload) // 4 * 4]))
    if len(data) < _MSG.size:
        return None
    return Message(data, fds)
