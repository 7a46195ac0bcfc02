"""Running a command and measuring it, and summarizing many measurements.

A command's figures come from os.wait4: wall time from spawn to reap, CPU
time (user + sys of the process and of the children it reaped) and peak
RSS (ru_maxrss, the largest of the process and of those children).

ru_maxrss also counts the memory of the process the command was forked
from: spawned from this ~10 MiB Python, every runtime would show ~10 MiB,
more than crun's whole peak.  So a measured command is forked by a static
busybox `setsid` that exits at once (/bin/true then shows the ~1.1 MiB it
shows under GNU time), and this process, a child subreaper for that moment,
adopts the command and reaps it itself.
The hop adds ~0.4 ms of wall time to every figure alike, and no CPU time.
"""
import ctypes
import os
import statistics
import tempfile
import time

from bundle import find_busybox

PR_SET_CHILD_SUBREAPER = 36
libc = ctypes.CDLL(None, use_errno=True)


def set_subreaper(on):
    if libc.prctl(PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


class Call:
    """A spawned command whose stdout and stderr go to files.

    Never pipes: the container's init inherits the stdio of `create` and
    `run` and would hold a pipe open long after the runtime exits.
    hop: fork the command from busybox (see above), for a true ru_maxrss.
    """

    def __init__(self, cmd, hop=False):
        self.cmd = cmd
        self._out = tempfile.TemporaryFile()
        self._err = tempfile.TemporaryFile()
        actions = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                   (os.POSIX_SPAWN_DUP2, self._out.fileno(), 1),
                   (os.POSIX_SPAWN_DUP2, self._err.fileno(), 2)]
        self._started = time.perf_counter()
        if not hop:
            self.pid = os.posix_spawnp(cmd[0], cmd, os.environ, file_actions=actions)
            return
        set_subreaper(True)
        try:
            # As a process group leader, busybox setsid cannot setsid() itself,
            # so it forks the command into a new session and exits.
            busybox = find_busybox()
            hop = os.posix_spawn(busybox, [busybox, "setsid", *cmd], os.environ,
                                 file_actions=actions, setpgroup=0)
            if os.wait4(hop, 0)[1] != 0:
                raise RuntimeError(f"busybox setsid {' '.join(cmd)}: could not fork")
        finally:
            # Off before the command exits: orphans it leaves, such as the
            # container's init, must not become our children.
            set_subreaper(False)
        self.pid = -1  # the adopted command is then our only child

    def wait(self):
        """Reap the command; its figures as {metric: value}.  Sets returncode, stdout, stderr."""
        _, status, usage = os.wait4(self.pid, 0)
        wall = time.perf_counter() - self._started
        self.returncode = os.waitstatus_to_exitcode(status)
        self.stdout, self.stderr = (self._read(f) for f in (self._out, self._err))
        return {"wall_ms": wall * 1000, "cpu_ms": (usage.ru_utime + usage.ru_stime) * 1000,
                "rss_kib": usage.ru_maxrss}

    def check(self):
        if self.returncode != 0:
            raise RuntimeError(f"{' '.join(self.cmd)}: exit {self.returncode}: {self.stderr.strip()[-500:]}")

    @staticmethod
    def _read(f):
        f.seek(0)
        text = f.read().decode(errors="replace")
        f.close()
        return text


def measure(cmd):
    """Run cmd to its end through the hop; its figures and stdout, or RuntimeError if it failed."""
    call = Call(cmd, hop=True)
    figures = call.wait()
    call.check()
    return figures, call.stdout


def wall_of(cmds):
    """Run cmds concurrently, without the hop; the wall time in ms from the first spawn to the last reap."""
    start = time.perf_counter()
    calls = [Call(cmd) for cmd in cmds]
    for call in calls:  # reap every one before raising, so none is left running
        call.wait()
    wall = (time.perf_counter() - start) * 1000
    for call in calls:
        call.check()
    return wall


def summarize(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}
