"""`start`: release a created container's init to run the user's program.

The init waits on a unix socket in the state directory.  start connects,
sends the state (for startContainer hooks) over the sync channel's
protocol (pyoci.launch.sync), and reads: end-of-file means the
init reached execve (its end of the connection closes on exec); a message
means a step after start failed.  Then the poststart hooks run.
"""
import posix  # not os: see pyoci.core.paths

from pyoci.launch import steps
from pyoci.core.errors import PyociError, WrongState
from pyoci.core.jsonio import dumps
from pyoci.state import START_SOCKET, Container, at_short_path
from pyoci.launch.sync import SIZE, decode, send_state


def start(root, container_id, connect=None):
    """connect(name): a SOCK_SEQPACKET connection to the start socket's name
    in the working directory, as a descriptor.  `run`, which has the shim
    loaded, passes pyoci.launch.native.connect; `start` alone connects with
    _socket, a smaller load than the shim: the one AF_UNIX socket pyoci
    opens other than through the shim (pyoci/_native/sockets.c)."""
    container = Container(root, container_id)
    container.lock()
    try:
        container.load()
        status = container.status()
        if status == "created" and not container.record.get("has_process", True):
            # Release the init anyway: it has nothing to run and exits, so the
            # container is stopped and a plain delete removes it.
            try:
                release(container, connect or _socket_connect)
            except PyociError:
                pass
            raise WrongState("cannot start a container without a process: config.json has none")
        if status != "created":
            if status == "stopped":
                raise WrongState("cannot start a container that has stopped")
            if status == "creating":
                raise WrongState("cannot start a container that is being created")
            raise WrongState("cannot start an already running container")
        release(container, connect or _socket_connect)
        steps.reached("start:released")
    finally:
        container.unlock()
    hooks = container.record.get("hooks")
    if hooks:  # the module only when there are hooks: start is on every engine's hot path
        from pyoci.hooks import run_hooks

        run_hooks(hooks, "poststart", container.spec_state("running"), fatal=False)
        steps.reached("start:poststart-run")


def release(container, connect):
    state = container.spec_state("created")
    try:
        fd = at_short_path(container.dir, START_SOCKET, connect)
    except OSError:
        raise WrongState("cannot start a container that has stopped") from None
    try:
        send_state(fd, dumps(state))
        posix.unlink(container.start_socket)
        reply = posix.read(fd, SIZE + 1)  # one packet, if any: one byte more shows one too long
    finally:
        posix.close(fd)
    if reply:
        raise PyociError(decode(reply, sender="the container's init").describe())


def _socket_connect(name):
    import _socket  # not `socket`, which imports enum on every start (see bench/README.md)

    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_SEQPACKET)
    try:
        sock.connect(name)
    except BaseException:
        sock.close()
        raise
    return sock.detach()
