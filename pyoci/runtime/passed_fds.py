"""The descriptors a caller hands on to the container's process: systemd's
socket activation (LISTEN_FDS) and --preserve-fds (create, run, exec).

They are fds 3 and up, and the shim keeps that whole range open across the
program's execve.  Every fd in it must therefore be one the caller really
passed: one it did not would be whatever the runtime opened there itself
(its sync socket, the locked state directory), and the program would hold
it.  So each is checked to be open before the runtime opens anything of
its own, which then lands above the range, as runc refuses a preserved fd
it cannot stat.
"""
import posix  # not os: see pyoci.core.paths

from pyoci.core.errors import PyociError

FIRST = 3  # after stdio


def listen_fds():
    """How many socket-activation fds were passed to this process: LISTEN_FDS
    counts only when LISTEN_PID names this process (sd_listen_fds' rule).
    A pair inherited from further up, say by a service's child, names
    another process, and its fds are not ours to pass on."""
    try:
        if int(posix.environ.get(b"LISTEN_PID", b"0")) != posix.getpid():
            return 0
        count = int(posix.environ.get(b"LISTEN_FDS", b"0"))
    except ValueError:
        return 0
    check_open(FIRST, count, "LISTEN_FDS")
    return count


def check_open(first, count, what):
    """Raise naming what unless fds first .. first+count-1 are all open."""
    for fd in range(first, first + count):
        try:
            posix.fstat(fd)
        except OSError:
            raise PyociError(f"{what} {count}: fd {fd} is not open; the caller must pass fds {first} to "
                             f"{first + count - 1}") from None

