"""The log of a command: --log, --log-format and --debug, and the records
every command writes to it.

containerd's shim shows the last `error` record of its --log file; podman
reads the file as JSON.  Without --log, records go to stderr as text.

The CLI configures `log` once it has parsed its global flags, and only when
one of them was given: Log's defaults are theirs.  A call without them that
writes no record (most start, state, kill and delete) never loads this
module.  One with them (engines give --log to every call) loads only this,
the settings and the level filter: what writes a record (pyoci.core.log_records)
comes with the first record written.
"""
_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}


class Log:
    def __init__(self, path=None, fmt="text", debug=False):
        self.configure(path, fmt, debug)

    def configure(self, path, fmt, debug):
        self.path = path
        self.fmt = fmt
        self.threshold = _LEVELS["debug" if debug else "info"]

    def record(self, level, msg, also_stderr=False):
        if _LEVELS[level] >= self.threshold:
            from pyoci.core.log_records import write

            write(self.path, self.fmt, level, msg, also_stderr)

    def debug(self, msg):
        self.record("debug", msg)

    def trace(self, msg):
        """--debug's step records (pyoci.launch.steps): on stderr, where a person
        running the command watches, and in the --log file too."""
        self.record("debug", msg, also_stderr=True)

    def info(self, msg):
        self.record("info", msg)

    def warning(self, msg):
        self.record("warning", msg)

    def error(self, msg):
        self.record("error", msg)


# The command's log, which pyoci.cli configures.
log = Log()
