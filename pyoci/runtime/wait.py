"""Waiting for a container's process while passing it our signals (run,
exec), and its exit status as a shell reports it."""
import posix  # not os: see pyoci.core.paths
import _signal as signal  # not `signal`, which builds enums on import (see bench/README.md)

FORWARDED = (signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGUSR1,
             signal.SIGUSR2, signal.SIGWINCH, signal.SIGCONT)


def exit_status(wait_status):
    if posix.WIFSIGNALED(wait_status):
        return 128 + posix.WTERMSIG(wait_status)
    return posix.WEXITSTATUS(wait_status)


def forward_signals(pid):
    for sig in FORWARDED:
        signal.signal(sig, lambda s, _f: _forward(pid, s))


def _forward(pid, sig):
    try:
        posix.kill(pid, sig)
    except ProcessLookupError:
        pass


def wait_for(pid):
    """pid's exit status; 255 if it is not (or no longer) our child."""
    while True:
        try:
            waited, status = posix.waitpid(pid, 0)
        except InterruptedError:
            continue
        except ChildProcessError:
            return 255
        if waited == pid:
            return exit_status(status)
