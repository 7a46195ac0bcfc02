"""A log record written: one line of text or JSON, to the --log file or
stderr (pyoci.core.log decides whether a record is written at all)."""
import posix  # not os: see pyoci.core.paths
import sys
import time

# A text record is one line whose msg is quoted: a newline or a quote in a
# message (a value from a config, a path) must not end it and forge another.
_ESCAPES = {**{c: f"\\x{c:02x}" for c in range(32)}, ord("\n"): "\\n", ord("\t"): "\\t", ord('"'): '\\"',
            ord("\\"): "\\\\"}


def write(path, fmt, level, msg, also_stderr):
    if fmt == "json":
        from pyoci.core.jsonio import dumps

        line = dumps({"level": level, "msg": msg, "time": _now()})
    else:
        line = f'time="{_now()}" level={level} msg="{msg.translate(_ESCAPES)}"'
    if path:
        try:
            append_line(path, line)
        except OSError:
            also_stderr = True
        if also_stderr:
            sys.stderr.write(line + "\n")
    elif level != "error":
        # Errors reach stderr from the CLI already; don't print them twice.
        sys.stderr.write(line + "\n")


def _now():
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%09dZ" % int((t % 1) * 1e9)


def append_line(path, line):
    """Append line to the --log file.  O_NOFOLLOW: a symlink planted at the
    name, in a directory others may write, is not written through."""
    fd = posix.open(path, posix.O_WRONLY | posix.O_APPEND | posix.O_CREAT | posix.O_NOFOLLOW | posix.O_CLOEXEC, 0o644)
    try:
        posix.write(fd, (line + "\n").encode(errors="surrogateescape"))
    finally:
        posix.close(fd)
