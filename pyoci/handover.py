"""Handing a descriptor from the container's init to a process that waits
for it on an AF_UNIX socket (create): the pty master to --console-socket
(containerd's shim, conmon), the seccomp notify fd to the seccomp agent at
linux.seccomp.listenerPath.

The shim sends the descriptor to the runtime over the sync socket; this
module forwards it, with its payload, as SCM_RIGHTS over a new connection.
"""
import socket

from pyoci.errors import PyociError


def send_fd(path, payload, fd, field):
    """Connect to path, send payload with fd, close; errors name field."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(path)
            socket.send_fds(s, [payload], [fd])
    except OSError as e:
        raise PyociError(f"{field} {path}: {e.strerror.lower() if e.strerror else e}") from None
