"""CRIU's RPC: the one way `checkpoint` and `restore` run CRIU
(checkpoint/restore, beside create -> start -> delete), as runc runs it.

Each action is a `criu swrk FD`: CRIU serves one request on a
SOCK_SEQPACKET socketpair end it inherits (made and read through the shim,
as the sync channel is), telling its steps back as notifications on the
way.  The request carries what only the RPC has: the
image and work directories as descriptors of this process (CRIU opens
them through /proc/PID/fd; 3.17 refuses them as paths), the log's name,
the pid to dump, a restore as the caller's sibling, a pty whose master is
outside dumped and its new master handed over (orphan_pts_master), the
notifications, and the flags that add to a list (LISTS).  Every other flag
pyoci.criu.options builds goes into a configuration file the request names
(config_file), which CRIU reads after the request.  The few fields used
are encoded and decoded here (rpc.proto in CRIU's source has their
numbers).
"""
import posix  # not os: see pyoci.core.paths
import tempfile

from pyoci.core import paths
from pyoci.core.errors import PyociError
from pyoci.criu import options as criu
from pyoci.launch import native

# criu_req_type
DUMP, RESTORE, PRE_DUMP, NOTIFY, FEATURE_CHECK = 1, 2, 4, 6, 9
ACTION = {DUMP: "dump", RESTORE: "restore", PRE_DUMP: "pre-dump", FEATURE_CHECK: "check"}
# criu_req
REQ_TYPE, REQ_OPTS, REQ_NOTIFY_SUCCESS, REQ_FEATURES = 1, 2, 3, 5
# criu_opts
(IMAGES_DIR_FD, PID, LOG_LEVEL, LOG_FILE, NOTIFY_SCRIPTS, WORK_DIR_FD, CG_ROOT, RST_SIBLING, INHERIT_FD,
 EXTERNAL, JOIN_NS, ORPHAN_PTS_MASTER, CONFIG_FILE) = 1, 2, 9, 10, 12, 17, 25, 26, 27, 37, 39, 50, 51
# criu_resp
RESP_TYPE, RESP_SUCCESS, RESP_RESTORE, RESP_NOTIFY, RESP_FEATURES, RESP_CR_ERRMSG = 1, 2, 4, 5, 8, 9
# criu_restore_resp
RESTORED_PID = 1
# criu_notify
NOTIFY_SCRIPT, NOTIFY_PID = 1, 2
# criu_features
FEATURES = {"mem_track": 1, "lazy_pages": 2}


def _inherit_fd(value):  # fd[N]:KEY -> inherit_fd {key = 1, fd = 2}
    fd, _, key = value.partition(":")
    return encode([(1, key), (2, int(fd[3:-1]))])


def _join_ns(value):  # NS:PATH -> join_namespace {ns = 1, ns_file = 2}
    ns, _, path = value.partition(":")
    return encode([(1, ns), (2, path)])


def _cg_root(value):  # [CONTROLLERS:]PATH -> cgroup_root {ctrl = 1, path = 2}
    ctrl, _, path = value.rpartition(":")
    return encode(([(1, ctrl)] if ctrl else []) + [(2, path)])


# Flags that add to a list go in the request, each as its repeated field:
# CRIU 3.17 reads the configuration file twice, and would take them twice
# (an inherited fd twice is a restore that fails: the first closes it).
LISTS = {"--external": (EXTERNAL, str), "--inherit-fd": (INHERIT_FD, _inherit_fd),
         "--join-ns": (JOIN_NS, _join_ns), "--cgroup-root": (CG_ROOT, _cg_root)}

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


def split_lists(args):
    """(the request's fields for the LISTS flags among args, the other args)."""
    fields, rest = [], []
    at = 0
    while at < len(args):
        if args[at] in LISTS:
            number, encoder = LISTS[args[at]]
            fields.append((number, encoder(args[at + 1])))
            at += 2
        else:
            rest.append(args[at])
            at += 1
    return fields, rest


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
            raise PyociError(f"{flag} {arg!r}: CRIU takes its flags from a configuration file, which cannot "
                             "hold a value with a quote, a newline or a final backslash")
        lines[-1] += f' "{arg}"'
    return "\n".join(lines) + "\n"


def popen(argv, pass_fds=(), preexec_fn=None):
    """CRIU's process; a preexec_fn that failed (it said why on stderr) as
    an error of pyoci's, where subprocess raises one of its own."""
    import subprocess

    try:
        return subprocess.Popen(argv, pass_fds=pass_fds, preexec_fn=preexec_fn)
    except subprocess.SubprocessError as e:
        raise PyociError(f"{argv[0]} could not be started: {e}") from None


def _open_dir(path, flag):
    try:
        return posix.open(path, posix.O_RDONLY | posix.O_DIRECTORY | posix.O_CLOEXEC)
    except OSError as e:
        raise PyociError(f"{flag}: {path}: {posix.strerror(e.errno).lower()}") from None


class Worker:
    """`criu swrk`, started for one request about opts's images: args (long
    flags with their values) are its fields (LISTS) and its configuration
    file, after the user's configuration file config; log_file is its
    log's name in the work directory."""

    def __init__(self, binary, opts, log_file, args=(), config=None, pass_fds=(), preexec_fn=None):
        self.log_path = paths.join(opts.log_dir, log_file)
        self.dir_fds = [_open_dir(opts.image_path, "--image-path")]
        self.sock = self.config_path = None
        try:
            if opts.work_path:
                self.dir_fds.append(_open_dir(opts.work_path, "--work-path"))
            # orphan_pts_master as runc asks it, always: a pty whose master
            # is outside (the console's) is dumped, and restored with a new
            # master handed over.
            self.request = [(IMAGES_DIR_FD, self.dir_fds[0]), (LOG_LEVEL, criu.LOG_LEVEL), (LOG_FILE, log_file),
                            (ORPHAN_PTS_MASTER, True)]
            if opts.work_path:
                self.request.append((WORK_DIR_FD, self.dir_fds[1]))
            lists, args = split_lists(list(args))
            self.request += lists
            fd, self.config_path = tempfile.mkstemp(prefix="pyoci-criu-", suffix=".conf")
            with open(fd, "w") as f:
                f.write(config_text(args, config))
            self.request.append((CONFIG_FILE, self.config_path))
            ours, theirs = native.socket_pair()  # the shim's, as the sync channel's
            try:
                self.proc = popen([binary, "swrk", str(theirs)], (*pass_fds, theirs), preexec_fn)
            except BaseException:
                posix.close(ours)
                raise
            finally:  # only CRIU's: its exit is then the end of ours
                posix.close(theirs)
            self.sock = ours
        except BaseException:
            self._release()
            raise

    def _release(self):
        for fd in self.dir_fds:
            posix.close(fd)
        self.dir_fds = []
        if self.sock is not None:
            posix.close(self.sock)
            self.sock = None
        if self.config_path:
            posix.unlink(self.config_path)
            self.config_path = None

    def call(self, req_type, pid=None, sibling=False, notify=None, features=()):
        """Send the request, answer CRIU's notifications until it answers
        it, wait for CRIU to exit, and return its answer's fields.
        notify(script, pid, fds) is called for each notification (the fds
        are its to close); its error is raised once CRIU, told that the
        script failed, has exited.  A failure of CRIU's is an error that
        quotes its log."""
        opts = list(self.request)
        if pid is not None:
            opts.append((PID, pid))
        if sibling:
            opts.append((RST_SIBLING, True))
        if notify:
            opts.append((NOTIFY_SCRIPTS, True))
        req = [(REQ_TYPE, req_type), (REQ_OPTS, encode(opts))]
        if features:
            req.append((REQ_FEATURES, encode([(FEATURES[name], True) for name in features])))
        failure = None
        answer = {}
        try:
            posix.write(self.sock, encode(req))
            while True:
                data, fds = native.receive(self.sock, MAX_MESSAGE + 1)
                if not data:  # CRIU exited without an answer: its log says why
                    break
                if len(data) > MAX_MESSAGE:
                    for fd in fds:
                        posix.close(fd)
                    raise PyociError(f"CRIU's RPC: a message longer than {MAX_MESSAGE} bytes")
                resp = decode(data)
                if _first(resp, RESP_TYPE, 0) != NOTIFY:
                    answer = resp
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
                posix.write(self.sock, encode([(REQ_TYPE, NOTIFY), (REQ_NOTIFY_SUCCESS, failure is None)]))
        finally:
            self._release()
            if not answer and failure is None and self.proc.poll() is None:
                self.proc.kill()  # interrupted: CRIU must not go on alone
            status = self.proc.wait()
        if failure:
            raise failure
        # After a pre-dump's answer CRIU waits for the next pre-dump, or the
        # dump, on the same connection, and fails once it is closed, as runc
        # closes it: a pre-dump's answer alone says how it went.
        if req_type == PRE_DUMP and answer:
            status = 0
        if status != 0 or not _first(answer, RESP_SUCCESS, 0):
            raise PyociError(f"criu {ACTION[req_type]} failed: {self._why(answer)} (log: {self.log_path})")
        return answer

    def _why(self, answer):
        """CRIU's first errors from its log or, where the log has none (CRIU
        failed before it opened it), from its answer."""
        words = criu.log_excerpt(self.log_path)
        said = _first(answer, RESP_CR_ERRMSG, b"").decode(errors="replace")
        if said and words in ("", criu.NO_LOG):
            words = "; ".join(criu.error_words([said])) or said
        return words or "no error in the log"


def check_features(binary, opts, log_file, wanted):
    """CRIU's FEATURE_CHECK for flags that need what a kernel may lack:
    wanted maps a feature (FEATURES) to the flag that needs it."""
    answer = Worker(binary, opts, log_file).call(FEATURE_CHECK, features=wanted)
    found = decode(_first(answer, RESP_FEATURES, b""))
    missing = [flag for name, flag in wanted.items() if not _first(found, FEATURES[name], 0)]
    if missing:
        raise PyociError(f"{', '.join(missing)}: CRIU cannot do it here (its feature check says no)")


def restored_pid(answer):
    """The restored tree's root, as CRIU's answer to RESTORE names it."""
    return _first(decode(_first(answer, RESP_RESTORE, b"")), RESTORED_PID, 0)
