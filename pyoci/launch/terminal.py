"""Foreground `run` with process.terminal and no --console-socket: pyoci
itself plays the console, copying between its stdio and the pty master
until the container's init exits (as runc does)."""
import os
import select
import termios
import tty

from pyoci.core.errors import PyociError
from pyoci.core.procfs import alive


def require_host_terminal():
    """Refuse a foreground console with nothing to play it on, before
    anything is made: without a terminal the container's shell waits for
    input that never comes, and as pid 1 it ignores the SIGTERM that would
    end it.  A terminal is found as runc finds one: stderr, stdout or stdin
    is one or, all three redirected, the controlling terminal (/dev/tty) is;
    a CI job or a script without one fails here, as runc fails to open
    /dev/tty."""
    if any(os.isatty(fd) for fd in (2, 1, 0)) or _has_controlling_terminal():
        return
    raise PyociError('process.terminal is true but stdin, stdout and stderr are not terminals, there is no '
                     'controlling terminal and no --console-socket was given: set "terminal": false in '
                     "config.json, or run from a terminal")


def _has_controlling_terminal():
    try:
        fd = os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError:  # ENXIO: the session has no controlling terminal
        return False
    try:
        return os.isatty(fd)
    finally:
        os.close(fd)


def proxy(master_fd, init_pid):
    stdin_tty = os.isatty(0)
    saved = termios.tcgetattr(0) if stdin_tty else None
    if stdin_tty:
        tty.setraw(0)
    watch = [master_fd, 0]
    try:
        while True:
            try:
                ready, _, _ = select.select(watch, [], [], 0.2)
            except InterruptedError:
                continue
            if master_fd in ready:
                try:
                    data = os.read(master_fd, 65536)
                except OSError:
                    data = b""
                if not data:
                    return
                os.write(1, data)
            if 0 in ready:
                data = os.read(0, 65536)
                if data:
                    os.write(master_fd, data)
                else:
                    watch.remove(0)
            if not ready and not alive(init_pid):
                return
    finally:
        if saved is not None:
            termios.tcsetattr(0, termios.TCSADRAIN, saved)
        os.close(master_fd)


