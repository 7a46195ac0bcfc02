"""Handing a descriptor from the container's init to a process that waits
for it on an AF_UNIX socket (create): the pty master to --console-socket
(containerd's shim, conmon), the seccomp notify fd to the seccomp agent at
linux.seccomp.listenerPath, a pidfd of the new process to --pidfd-socket.

The shim sends the descriptor to the runtime over the sync socket; this
module forwards it, with its payload, as SCM_RIGHTS over a new connection.
"""
import posix  # not os: see pyoci.core.paths
import socket

from pyoci import SPEC_VERSION
from pyoci.core.errors import PyociError


def send_fd(path, payload, fd, field):
    """Connect to path, send payload with fd, close; errors name field."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(path)
            # A stream: sendmsg may take part of a big payload (the seccomp
            # agent's state carries the annotations); the rest follows.
            sent = socket.send_fds(s, [payload], [fd])
            if sent < len(payload):  # not otherwise: sendall sends even nothing, to a peer that may be gone
                s.sendall(payload[sent:])
    except OSError as e:
        raise PyociError(f"{field} {path}: {e.strerror.lower() if e.strerror else e}") from None


def send_seccomp_fd(fds, config, pid, state):
    """The notify fd of a profile with SCMP_ACT_NOTIFY, to its agent at
    linux.seccomp.listenerPath, with the container process state
    (runtime-spec, config-linux.md): pid is the process the filter is for,
    state the container's.  The fd is closed here."""
    from pyoci.core.jsonio import dumps

    if not fds:
        raise PyociError("linux.seccomp: no notify fd received")
    seccomp = config["linux"]["seccomp"]
    process_state = {"ociVersion": SPEC_VERSION, "fds": ["seccompFd"], "pid": pid, "state": state}
    if "listenerMetadata" in seccomp:
        process_state["metadata"] = seccomp["listenerMetadata"]
    try:
        send_fd(seccomp["listenerPath"], dumps(process_state).encode(), fds[0], "linux.seccomp.listenerPath")
    finally:
        for fd in fds:
            posix.close(fd)


def send_pidfd(path, pid):
    """A pidfd of pid to --pidfd-socket (create's init, exec's process)."""
    try:
        fd = posix.pidfd_open(pid)
    except OSError as e:
        raise PyociError(f"--pidfd-socket: pidfd of {pid}: {posix.strerror(e.errno).lower()}") from None
    try:
        send_fd(path, b"pidfd", fd, "--pidfd-socket")
    finally:
        posix.close(fd)
