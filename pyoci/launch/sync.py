"""The sync channel: the one protocol between the runtime and a container's
first process, on both of its sockets.

create and exec talk to the child (C, in the shim) over the sync socket
pair; `start` talks to the waiting init over its connection to the start
socket.  Every message is one SOCK_SEQPACKET packet that begins with its
type and its length (pyoci/_native/shim.h declares both directions):

- the child sends a whole struct pyoci_msg: a sync point reached, its pid,
  a failed step (pyoci.launch.native.read_message receives them, decode() checks
  and decodes them; `start` reads its one possible message with decode());
- the runtime replies with a struct pyoci_reply: an ack, or the state for
  the hooks in the container, whose JSON follows in packets of at most
  CHUNK bytes, so a state of any size gets through (annotations carry whole
  documents).

A packet of any other length, or one cut short, is an error, never a
message.  Decoding needs no shim, so `start` never loads it.
"""
import posix  # not os: see pyoci.core.paths
import sys

from pyoci.core.errors import PyociError

# enum pyoci_msg_type in _native/shim.h (pyoci.launch.native checks they agree)
MSG_USERNS, MSG_PID, MSG_SYNC, MSG_CONSOLE, MSG_READY, MSG_ERROR, MSG_SECCOMP = range(1, 8)
# enum pyoci_reply_type, and PYOCI_CHUNK
REPLY_ACK, REPLY_STATE = 1, 2
CHUNK = 65536

# struct pyoci_msg: int type, length, step, err, status, pid; char label[500].
# Decoded with memoryview casts (C ints, native order), not the struct
# module: one shared library less to load on every create and start.
_INTS = 6
SIZE = _INTS * 4 + 500
REPLY_SIZE = 8  # struct pyoci_reply: unsigned int type, length
MAX_STATE = 0xFFFFFFFF  # what the reply's length field holds


class ProtocolError(PyociError):
    """A packet on the sync channel that is not a message of this runtime."""


class ChildGone(BrokenPipeError):
    """The child has closed its end of the sync socket: it has exited, and
    the runtime can say why (pyoci.runtime.create).  Still a BrokenPipeError
    to callers that do not tell the two apart."""


def c_ints(data):
    """The C ints packed in data (a multiple of 4 bytes)."""
    return memoryview(data).cast("i").tolist()


class Message:
    __slots__ = ("type", "step", "err", "status", "pid", "label", "fds")

    def __init__(self, data, fds=()):
        self.type, _length, self.step, self.err, self.status, self.pid = c_ints(data[:_INTS * 4])
        self.label = data[_INTS * 4:SIZE].split(b"\0", 1)[0].decode(errors="replace")
        self.fds = list(fds)

    def describe(self):
        """A failed step as the user reads it: 'mounts[3] /proc: mount: no such device'."""
        if self.status:
            if posix.WIFEXITED(self.status):
                return f"{self.label}: exit status {posix.WEXITSTATUS(self.status)}"
            return f"{self.label}: killed by signal {posix.WTERMSIG(self.status)}"
        return f"{self.label}: {posix.strerror(self.err).lower()}"


def decode(data, fds=(), sender="the container's process"):
    """The Message in one packet; ProtocolError (with fds closed) for a
    packet that is not exactly one struct pyoci_msg."""
    if len(data) != SIZE or c_ints(data[4:8])[0] != SIZE:
        for fd in fds:
            posix.close(fd)
        raise ProtocolError(f"sync channel: {sender} sent a packet of {len(data)} bytes, "
                            f"not a message of {SIZE}")
    return Message(data, fds)


def _reply(kind, length):
    return kind.to_bytes(4, sys.byteorder) + length.to_bytes(4, sys.byteorder)


def _write(fd, data):
    try:
        posix.write(fd, data)
    except BrokenPipeError as e:
        raise ChildGone(*e.args) from None


def ack(fd):
    """Let the child go on from its sync point."""
    _write(fd, _reply(REPLY_ACK, 0))


def send_state(fd, text):
    """The state JSON (str) for the hooks in the container, in CHUNK-sized
    packets after its header."""
    data = memoryview(text.encode())
    if len(data) > MAX_STATE:
        raise PyociError(f"the container's state is {len(data)} bytes; at most {MAX_STATE} reach its hooks")
    # Each write is one packet, sent whole or not at all (SOCK_SEQPACKET).
    _write(fd, _reply(REPLY_STATE, len(data)))
    for offset in range(0, len(data), CHUNK):
        _write(fd, data[offset:offset + CHUNK])
