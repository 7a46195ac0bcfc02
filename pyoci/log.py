"""Log records for --log / --log-format / --debug, written by every command.

containerd's shim shows the last `error` record of its --log file; podman
reads the file as JSON.  Without --log, records go to stderr as text.
"""
import posix  # not os: see pyoci.paths
import sys
import time

_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}
# A text record is one line whose msg is quoted: a newline or a quote in a
# message (a value from a config, a path) must not end it and forge another.
_ESCAPES = {**{c: f"\\x{c:02x}" for c in range(32)}, ord("\n"): "\\n", ord("\t"): "\\t", ord('"'): '\\"',
            ord("\\"): "\\\\"}


class Log:
    def __init__(self, path=None, fmt="text", debug=False):
        self.path = path
        self.fmt = fmt
        self.threshold = _LEVELS["debug" if debug else "info"]

    def _now(self):
        t = time.time()
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%09dZ" % int((t % 1) * 1e9)

    def record(self, level, msg, also_stderr=False):
        if _LEVELS[level] < self.threshold:
            return
        if self.fmt == "json":
            from pyoci.jsonio import dumps

            line = dumps({"level": level, "msg": msg, "time": self._now()})
        else:
            line = f'time="{self._now()}" level={level} msg="{msg.translate(_ESCAPES)}"'
        if self.path:
            try:
                append_line(self.path, line)
            except OSError:
                also_stderr = True
            if also_stderr:
                sys.stderr.write(line + "\n")
        elif level != "error":
            # Errors reach stderr from the CLI already; don't print them twice.
            sys.stderr.write(line + "\n")

    def debug(self, msg):
        self.record("debug", msg)

    def trace(self, msg):
        """--debug's step records (pyoci.steps): on stderr, where a person
        running the command watches, and in the --log file too."""
        self.record("debug", msg, also_stderr=True)

    def info(self, msg):
        self.record("info", msg)

    def warning(self, msg):
        self.record("warning", msg)

    def error(self, msg):
        self.record("error", msg)


def append_line(path, line):
    """Append line to the --log file.  O_NOFOLLOW: a symlink planted at the
    name, in a directory others may write, is not written through."""
    fd = posix.open(path, posix.O_WRONLY | posix.O_APPEND | posix.O_CREAT | posix.O_NOFOLLOW | posix.O_CLOEXEC, 0o644)
    try:
        posix.write(fd, (line + "\n").encode(errors="surrogateescape"))
    finally:
        posix.close(fd)


log = Log()


def configure(path, fmt, debug):
    log.path, log.fmt = path, fmt
    log.threshold = _LEVELS["debug" if debug else "info"]


# The CLI parses --log, --log-format and --debug first, but imports this
# module only when something is about to log (see pyoci.cli.main).
_cli = sys.modules.get("pyoci.cli")
if _cli is not None and _cli.LOG_SETTINGS is not None:
    configure(*_cli.LOG_SETTINGS)
