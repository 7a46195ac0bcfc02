"""The launcher's cgroup warm-up helper (warm_migrations in
pyoci/_native/launcher.c), ended here.

The launcher starts it for create, run and exec, as a child of the runtime,
and names it in PYOCI_WARMUP_PID.  create and exec end it once their process
has joined the container's cgroups (after that, nothing waits on the lock it
keeps ready), and
run_and_exit ends it whichever way a command ends.  Ended means killed and
reaped: it must not outlive the command and be adopted, as a stray exit, by
an engine's subreaper.
"""
import posix  # not os: see pyoci.core.paths
from _signal import SIGKILL  # not signal: see pyoci.runtime.kill

VARIABLE = b"PYOCI_WARMUP_PID"


def end():
    """Kill and reap the helper, if there is one; again, it does nothing."""
    pid = posix.environ.pop(VARIABLE, None)
    if pid is None:
        return
    posix.unsetenv(VARIABLE)  # nothing this command starts should see it
    try:
        pid = int(pid)
        # Only a child of this process is ours to end: waitpid says so (and
        # reaps a helper that has already ended).
        if posix.waitpid(pid, posix.WNOHANG)[0] == 0:
            posix.kill(pid, SIGKILL)
            posix.waitpid(pid, 0)
    except (ValueError, OSError):  # not a child of ours: nothing to end
        pass
