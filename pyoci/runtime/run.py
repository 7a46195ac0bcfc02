"""`run`: create + start, then (unless --detach) wait for the init, pass it
our signals, and exit with its status (128+N when killed by signal N);
finally delete the container unless --keep.

As a child subreaper (unless --no-subreaper) `run` also collects an init
that a pid namespace's extra fork made its grandchild.
"""
import posix  # not os: see pyoci.core.paths

from pyoci.launch import native
from pyoci.runtime import delete as delete_op
from pyoci.runtime.create import create
from pyoci.runtime.start import start
from pyoci.runtime.wait import forward_signals, wait_for


def run(root, container_id, opts, detach=False, subreaper=True, keep=False):
    if subreaper and not detach:
        native.set_subreaper()
    opts.keep_master = not detach and not opts.console_socket
    container, creation = create(root, container_id, opts)
    try:
        start(root, container_id, native.connect)  # the shim is loaded: no _socket
    except BaseException:
        delete_op.delete(root, container_id, force=True)
        raise
    if detach:
        return 0
    return wait_then_delete(root, container_id, container.record["pid"], creation.master_fd, keep)


def wait_then_delete(root, container_id, pid, master_fd=None, keep=False):
    """The foreground's end (run, restore): the init's exit status, once it
    and what it left have been reaped, and the container deleted unless keep."""
    forward_signals(pid)
    if master_fd is not None:
        from pyoci.launch.terminal import proxy

        proxy(master_fd, pid)
    status = wait_for(pid)
    reap_orphans()
    if not keep:
        delete_op.delete(root, container_id, force=True)
    return status


def reap_orphans():
    """Processes of the container reparented to us (subreaper) die with it."""
    while True:
        try:
            pid, _ = posix.waitpid(-1, posix.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
