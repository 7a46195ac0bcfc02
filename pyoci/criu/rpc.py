"""CRIU's RPC, for `checkpoint` and `restore` of a container with a
terminal (checkpoint/restore; pyoci.criu.command runs CRIU's command line for the
others).

The pty's master is outside the container (with whoever holds the
console): CRIU dumps such a pty, and at restore makes it a new master and
hands that over, only when asked through its RPC (orphan_pts_master).  As
runc does, pyoci then runs `criu swrk FD`, CRIU serving one request on a
SOCK_SEQPACKET socketpair end it inherits.  The request carries only what
has no flag (orphan_pts_master, notify_scripts, the pid to dump, the log
level); every flag pyoci.criu.command builds goes into a configuration file the
request names (config_file), which CRIU reads after the request, images
and work directory and log file included.  The few fields used are
encoded and decoded here (rpc.proto in CRIU's source has their numbers).
"""
import posix  # not os: see pyoci.core.paths
import socket
import tempfile

from pyoci.criu import command as criu
from pyoci.core.errors import PyociError

# criu_req_type
DUMP = 1
RESTORE = 2
NOTIFY = 6
# criu_req
REQ_TYPE, REQ_OPTS, REQ_NOTIFY_SUCCESS = 1, 2, 3
# criu_opts
IMAGES_DIR_FD, PID, LOG_LEVEL, NOTIFY_SCRIPTS, ORPHAN_PTS_MASTER, CONFIG_FILE = 1, 2, 9, 12, 50, 51
# criu_resp
RESP_TYPE, RESP_SUCCESS, RESP_NOTIFY, RESP_CR_ERRMSG = 1, 2, 5, 9
# criu_notify
NOTIFY_SCRIPT, NOTIFY_PID = 1, 2

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5  # protobuf wire types
FIXED_SIZE = {FIXED64: 8, FIXED32: 4}
# CRIU's answers are a few dozen bytes; one larger would be cut short, and
# then fail to decode.
MAX_MESSAGE = 1 << 16


def _varint(n):
    n &= (1 << 64) - 1  # a negative int32 is sent as its 64-bit two's complement
    out = bytearray()
    while n > 0x7F:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def encode(fields):
    """A message from (field number, value) pairs; a value is an int (bool,
    enum, int32), a str, or bytes (an encoded message)."""
    out = []
    for number, value in fields:
        if isinstance(value, str):
            value = value.encode()
        if isinstance(value, bytes):
            out += [_varint(number << 3 | LENGTH), _varint(len(value)), value]
        else:
            out += [_varint(number << 3 | VARINT), _varint(int(value))]
    return b"".join(out)


def _read_varint(data, at):
    value = shift = 0
    while True:
        if at >= len(data):
            raise PyociError("CRIU's RPC: a message ends inside a field")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


def decode(data):
    """{field number: [values]} of a message: varints as ints, the others
    as bytes (an embedded message is decoded by whoever knows it is one)."""
    fields, at = {}, 0
    while at < len(data):
        key, at = _read_varint(data, at)
        number, wire = key >> 3, key & 7
        if wire == VARINT:
            value, at = _read_varint(data, at)
        else:
            if wire == LENGTH:
                size, at = _read_varint(data, at)
            elif wire in FIXED_SIZE:
                size = FIXED_SIZE[wire]
            else:
                raise PyociError(f"CRIU's RPC: field {number} has wire type {wire}, which no message of it has")
            if at + size > len(data):
                raise PyociError("CRIU's RPC: a message ends inside a field")
            value, at = data[at:at + size], at + size
        fields.setdefault(number, []).append(value)
    return fields


def _first(fields, number, default):
    return fields.get(number, [default])[0]


def config_text(args, config=None):
    """args (long flags, each followed by its values) as a CRIU
    configuration file: a flag a line, without its dashes, its value
    quoted.  The user's configuration file config comes first: the flags
    override it, as on the command line."""
    lines = []
    if config:
        try:
            with open(config) as f:
                lines.append(f.read())
        except FileNotFoundError:  # CRIU skips it too
            pass
        except OSError as e:
            raise PyociError(f"{criu.CONFIG_ANNOTATION}: {config}: {posix.strerror(e.errno).lower()}") from None
    flag = None
    for arg in args:
        if arg.startswith("--"):
            flag = arg
            lines.append(arg[2:])
            continue
        # CRIU takes a quoted value up to the next quote not after a
        # backslash, backslash kept: these have no way through.
        if '"' in arg or "\n" in arg or arg.endswith("\\"):
            raise PyociError(f"{flag} {arg!r}: with process.terminal CRIU takes its flags from a configuration "
                             "file, which cannot hold a value with a quote, a newline or a final backslash")
        lines[-1] += f' "{arg}"'
    return "\n".join(lines) + "\n"


class Worker:
    """`criu swrk`, given args (and the user's configuration file) as the
    configuration file of its one request."""

    def __init__(self, binary, args, config=None, pass_fds=(), preexec_fn=None):
        fd, self.config_path = tempfile.mkstemp(prefix="pyoci-criu-", suffix=".conf")
        try:
            with open(fd, "w") as f:
                f.write(config_text(args, config))
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            with theirs:  # only CRIU's: its exit is then the end of ours
                try:
                    self.proc = criu.popen([binary, "swrk", str(theirs.fileno())],
                                           (*pass_fds, theirs.fileno()), preexec_fn)
                except BaseException:
                    ours.close()
                    raise
        except BaseException:
            posix.unlink(self.config_path)
            raise
        self.sock = ours
        self.said = None  # CRIU's first error, as its failed answer says it

    def call(self, req_type, pid=None, notify=None):
        """Send the request, answer CRIU's notifications until it answers
        the request, and wait for it to exit.  notify(script, pid, fds) is
        called for each (the fds are its to close); its error is returned,
        CRIU having been told that the script failed."""
        opts = [(IMAGES_DIR_FD, -1),  # required; -1: images-dir in the configuration file names it
                (LOG_LEVEL, criu.LOG_LEVEL), (ORPHAN_PTS_MASTER, True), (CONFIG_FILE, self.config_path)]
        if pid is not None:
            opts.append((PID, pid))
        if notify:
            opts.append((NOTIFY_SCRIPTS, True))
        failure = None
        answered = False
        try:
            self.sock.send(encode([(REQ_TYPE, req_type), (REQ_OPTS, encode(opts))]))
            while True:
                data, fds, _flags, _addr = socket.recv_fds(self.sock, MAX_MESSAGE, 1)
                if not data:  # CRIU exited without an answer: its log says why
                    break
                resp = decode(data)
                if _first(resp, RESP_TYPE, 0) != NOTIFY:
                    if not _first(resp, RESP_SUCCESS, 0):
                        self.said = _first(resp, RESP_CR_ERRMSG, b"").decode(errors="replace") or None
                    break
                note = decode(_first(resp, RESP_NOTIFY, b""))
                if notify and failure is None:
                    try:
                        notify(_first(note, NOTIFY_SCRIPT, b"").decode(), _first(note, NOTIFY_PID, 0), fds)
                    except (PyociError, OSError, ValueError) as e:
                        failure = e
                else:
                    for fd in fds:
                        posix.close(fd)
                self.sock.send(encode([(REQ_TYPE, NOTIFY), (REQ_NOTIFY_SUCCESS, failure is None)]))
            answered = True
        finally:
            self.sock.close()
            posix.unlink(self.config_path)
            if not answered and self.proc.poll() is None:  # interrupted: CRIU must not go on alone
                self.proc.kill()
            self.proc.wait()
        return failure
