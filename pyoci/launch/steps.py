"""Named steps of create, start, exec, update and delete: where `--debug`
records a command's progress, and where the crash tests stop it.

Each command calls reached("<command>:<step>") as it gets past a phase
(the config validated, the plan compiled, the cgroups made, the init
cloned, each sync point with it, the hooks run, the state written).

- With --debug, the CLI calls trace() first, and each step becomes a debug
  record with the milliseconds since the command began and since the step
  before, on stderr and in the --log file, so a slow or stuck command shows
  where it is.
- With PYOCI_FAULT=<step>[@<signal number>] in the environment, the command
  sends itself that signal (SIGKILL unless said) at that step, so a test can
  interrupt it at every step instead of at a random instant
  (tests/integration/test_crash_consistency.py).

With neither, a step costs two comparisons.
"""
import posix  # not os: see pyoci.core.paths

_FAULT = posix.environ.get(b"PYOCI_FAULT")
_clock = None  # --debug: (time.perf_counter, the command's start, the last step's time)


def reached(name, detail=None):
    """detail: what the step made, for the --debug record (a cgroup's path)."""
    if _clock is not None:
        _record(name if detail is None else f"{name} {detail}")
    if _FAULT is not None:
        _stop_if_wanted(name)


def trace(command, began):
    """From now on, record each step; began: perf_counter() when the command started."""
    global _clock
    from time import perf_counter

    _clock = [perf_counter, began, began]
    _record(command + ":parsed")


def _record(name):
    from pyoci.core.log import log

    now = _clock[0]()
    log.trace(f"step {name}: {(now - _clock[1]) * 1000:.1f} ms (+{(now - _clock[2]) * 1000:.1f} ms)")
    _clock[2] = now


def _stop_if_wanted(name):
    where, _, signal = _FAULT.decode().partition("@")
    if where == name:
        posix.kill(posix.getpid(), int(signal or 9))
