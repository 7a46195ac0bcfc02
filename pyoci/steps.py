"""Fault points: where the crash-consistency tests stop a command.

create, exec and delete call point(name) at each step that leaves
something behind (a directory, a cgroup, a process, a record).  With
PYOCI_FAULT=<name>[@<signal number>] in the environment, the command sends
itself that signal (SIGKILL unless said) at that point, so a test can
interrupt it at every step instead of at a random instant
(tests/integration/test_crash_consistency.py).  Without it, a point costs
one comparison.
"""
import posix  # not os: see pyoci.paths

_WANTED = posix.environ.get(b"PYOCI_FAULT")


def point(name):
    if _WANTED is not None:
        _reached(name)


def _reached(name):
    where, _, signal = _WANTED.decode().partition("@")
    if where == name:
        posix.kill(posix.getpid(), int(signal or 9))
