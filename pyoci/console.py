"""--console-socket: hand the container's pty master to whoever asked (create, run).

The shim opens the pty inside the container and sends the master to the
runtime over the sync socket; this module forwards it over the AF_UNIX
socket the caller named (containerd's shim, conmon), as SCM_RIGHTS.
"""
import socket

from pyoci.errors import PyociError


def send_master(console_socket, fd):
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(console_socket)
            socket.send_fds(s, [b"/dev/ptmx"], [fd])
    except OSError as e:
        raise PyociError(f"--console-socket {console_socket}: {e.strerror.lower() if e.strerror else e}") from None
