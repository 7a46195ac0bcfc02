"""Hooks run by the runtime process itself: prestart and createRuntime
(create), poststart (start), poststop (delete).

createContainer and startContainer hooks run inside the container's
namespaces and are executed by the shim (see plan/process.py).  Each hook
gets the container state on stdin; its args[0] is argv[0]; a timeout kills
it.  The spec's failure rules: prestart/createRuntime failures fail create,
poststart/poststop failures are only warnings.
"""
import posix  # not os: see pyoci.core.paths

from pyoci.core.errors import PyociError
from pyoci.core.jsonio import dumps
from pyoci.core.log import log


def run_hook(hook, field, state):
    import subprocess

    path = hook["path"]
    argv = hook.get("args") or [path]
    env = dict(item.split("=", 1) for item in hook.get("env", []))
    try:
        proc = subprocess.Popen(argv, executable=path, env=env, stdin=subprocess.PIPE, close_fds=True)
    except OSError as e:
        raise PyociError(f"{field} {path}: {posix.strerror(e.errno).lower()}") from None
    try:
        proc.communicate(dumps(state).encode(), timeout=hook.get("timeout"))
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise PyociError(f"{field} {path}: timed out after {hook['timeout']}s") from None
    except BrokenPipeError:
        proc.wait()
    except BaseException:
        # Interrupted: the hook must not outlive the command that started it.
        proc.kill()
        proc.wait()
        raise
    if proc.returncode:
        how = f"killed by signal {-proc.returncode}" if proc.returncode < 0 else f"exit status {proc.returncode}"
        raise PyociError(f"{field} {path}: {how}")


def run_hooks(hooks, phase, state, fatal=True):
    for i, hook in enumerate(hooks.get(phase, []) if hooks else []):
        field = f"hooks.{phase}[{i}]"
        try:
            run_hook(hook, field, state)
        except PyociError as e:
            if fatal:
                raise
            log.warning(str(e))
