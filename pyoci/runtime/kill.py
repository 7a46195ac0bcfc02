"""`kill`: signal a created, running or paused container's init (or, with
--all, every process in its cgroup).

Signal names: TERM, SIGTERM, term or 15 all name one signal.  They come
from the C module `_signal`: `signal` builds an enum of them on import, a
cost `kill` need not pay (see bench/README.md).

The pid is checked against its recorded start time first, so a pid the
kernel has reused is never signalled.  SIGKILL also thaws a paused
container, or its frozen processes could not die.
"""
import _signal as signal
import posix  # not os: see pyoci.core.paths

from pyoci.core.errors import PyociError, WrongState
from pyoci.state import Container


def cgroup_pids(container):
    """The container's processes in its cgroups (pyoci.runtime.members):
    only for --all, a plain kill never needs them."""
    from pyoci.runtime.members import of_container

    return of_container(container)


def signal_container(container, sig, all_processes=False):
    if all_processes and sig == signal.SIGKILL:
        from pyoci.runtime.members import owns_cgroup

        if owns_cgroup(container.record.get("cgroup", {})):
            from pyoci import cgroups

            # cgroup.kill: one write, and no process forks past it.
            cgroups.kill_all(container.record.get("cgroup", {}).get("dirs", {}))
    pids = cgroup_pids(container) if all_processes else []
    if container.init_alive():
        pids = [container.record["pid"]] + [p for p in pids if p != container.record["pid"]]
    for pid in pids:
        try:
            posix.kill(pid, sig)
        except ProcessLookupError:
            pass
    return pids


def kill(root, container_id, sig, all_processes=False):
    container = Container(root, container_id)
    container.load()
    status = container.status()
    if status == "stopped" and not (all_processes and cgroup_pids(container)):
        raise WrongState("container not running")
    signal_container(container, sig, all_processes)
    if status == "paused" and sig == signal.SIGKILL:
        # A frozen (cgroup v1) process acts on SIGKILL only once thawed, and
        # engines wait for the kill to end it: thaw, as runc does.
        from pyoci.cgroups.freezer import thaw

        thaw(container.record["cgroup"]["freezers"])


def parse_signal(text):
    if text.isascii() and text.isdigit():
        number = int(text)
        # 0 sends nothing: the kernel only checks that the process exists
        # and may be signalled, which is how callers probe for it (runc takes it too).
        if 0 <= number < signal.NSIG:
            return number
        raise PyociError(f"invalid signal: {text}")
    name = text.upper()
    if not name.startswith("SIG"):
        name = "SIG" + name
    if not name.startswith("SIG_") and isinstance(getattr(signal, name, None), int):
        return getattr(signal, name)
    for base, sign in (("SIGRTMIN", 1), ("SIGRTMAX", -1)):
        prefix = base + ("+" if sign > 0 else "-")
        if name.startswith(prefix) and name[len(prefix):].isdigit():
            number = int(getattr(signal, base)) + sign * int(name[len(prefix):])
            if signal.SIGRTMIN <= number <= signal.SIGRTMAX:
                return number
    raise PyociError(f"invalid signal: {text}")
