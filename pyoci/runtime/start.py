"""`start`: release a created container's init to run the user's program.

The init waits on a unix socket in the state directory.  start connects,
sends the state (for startContainer hooks), and reads: end-of-file means the
init reached execve (its end of the connection closes on exec); a message
means a step after start failed.  Then the poststart hooks run.
"""
import posix  # not os: see pyoci.paths
import _socket  # not `socket`, which imports enum: a few ms on every start

from pyoci.errors import PyociError, WrongState
from pyoci.jsonio import dumps
from pyoci.state import START_SOCKET, Container, at_short_path


def start(root, container_id):
    container = Container(root, container_id)
    container.lock()
    try:
        container.load()
        status = container.status()
        if status == "created" and not container.record.get("has_process", True):
            # Release the init anyway: it has nothing to run and exits, so the
            # container is stopped and a plain delete removes it.
            try:
                release(container)
            except PyociError:
                pass
            raise WrongState("cannot start a container without a process: config.json has none")
        if status != "created":
            if status == "stopped":
                raise WrongState("cannot start a container that has stopped")
            if status == "creating":
                raise WrongState("cannot start a container that is being created")
            raise WrongState("cannot start an already running container")
        release(container)
    finally:
        container.unlock()
    hooks = container.record.get("hooks")
    if hooks:  # the module only when there are hooks: start is on every engine's hot path
        from pyoci.hooks import run_hooks

        run_hooks(hooks, "poststart", container.spec_state("running"), fatal=False)


def release(container):
    state = container.spec_state("created")
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_SEQPACKET)
    try:
        try:
            at_short_path(container.dir, START_SOCKET, sock.connect)
        except OSError:
            raise WrongState("cannot start a container that has stopped") from None
        sock.send(dumps(state).encode())
        posix.unlink(container.start_socket)
        reply = sock.recv(4096)  # one message (SOCK_SEQPACKET), if any
    finally:
        sock.close()
    if reply:
        from pyoci import messages  # only for a failure: start is on every engine's hot path

        raise PyociError(messages.Message(reply).describe())
