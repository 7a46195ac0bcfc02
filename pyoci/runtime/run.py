"""`run`: create + start, then (unless --detach) wait for the init, pass it
our signals, and exit with its status (128+N when killed by signal N);
finally delete the container unless --keep.

As a child subreaper (unless --no-subreaper) `run` also collects an init
that a pid namespace's extra fork made its grandchild.
"""
import posix  # not os: see pyoci.paths
import _signal as signal  # not `signal`, which builds enums (a few ms per command)

from pyoci import native
from pyoci.runtime import delete as delete_op
from pyoci.runtime.create import create
from pyoci.runtime.start import start

FORWARDED = (signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGUSR1,
             signal.SIGUSR2, signal.SIGWINCH, signal.SIGCONT)


def exit_status(wait_status):
    if posix.WIFSIGNALED(wait_status):
        return 128 + posix.WTERMSIG(wait_status)
    return posix.WEXITSTATUS(wait_status)


def run(root, container_id, opts, detach=False, subreaper=True, keep=False):
    if subreaper and not detach:
        native.set_subreaper()
    opts.keep_master = not detach and not opts.console_socket
    container, creation = create(root, container_id, opts)
    try:
        start(root, container_id)
    except BaseException:
        delete_op.delete(root, container_id, force=True)
        raise
    if detach:
        return 0
    pid = container.record["pid"]
    for sig in FORWARDED:
        signal.signal(sig, lambda s, _f: _forward(pid, s))
    if creation.master_fd is not None:
        from pyoci.terminal import proxy

        proxy(creation.master_fd, pid)
    status = wait_init(pid)
    reap_orphans()
    if not keep:
        delete_op.delete(root, container_id, force=True)
    return status


def _forward(pid, sig):
    try:
        posix.kill(pid, sig)
    except ProcessLookupError:
        pass


def wait_init(pid):
    while True:
        try:
            waited, status = posix.waitpid(pid, 0)
        except InterruptedError:
            continue
        except ChildProcessError:
            return 255
        if waited == pid:
            return exit_status(status)


def reap_orphans():
    """Processes of the container reparented to us (subreaper) die with it."""
    while True:
        try:
            pid, _ = posix.waitpid(-1, posix.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
