"""`delete`: remove a stopped container (with -f, any container).

The spec: deleting a container that is not stopped fails and changes
nothing.  runc deletes a `created` one anyway; pyoci follows the spec, and
the engines pass --force when they mean it.  Deletion kills what is left in
the cgroup, removes the cgroups pyoci made and the state directory, then
runs the poststop hooks.
"""
import posix  # not os: see pyoci.paths
import time

from pyoci import cgroups
from pyoci.errors import NotFound, WrongState
from pyoci.state import Container

SIGKILL = 9


def wait_gone(container, timeout=10.0):
    deadline = time.monotonic() + timeout
    while container.init_alive() and time.monotonic() < deadline:
        time.sleep(0.005)


def delete(root, container_id, force=False):
    container = Container(root, container_id)
    try:
        container.lock()
        container.load()
    except NotFound:
        container.unlock()
        if force:
            return
        raise
    try:
        status = container.status()
        if status != "stopped":
            if not force:
                raise WrongState(f"cannot delete container {container_id} that is not stopped: {status}")
            from pyoci.runtime.kill import signal_container

            signal_container(container, SIGKILL, all_processes=True)
            thaw_if_frozen(container)
            wait_gone(container)
        destroy(container)
    finally:
        container.unlock()
    hooks = container.record.get("hooks")
    if hooks:  # the module only when there are hooks: delete is on every engine's hot path
        from pyoci.hooks import run_hooks

        run_hooks(hooks, "poststop", container.spec_state("stopped"), fatal=False)


def thaw_if_frozen(container):
    """A frozen process acts on SIGKILL only once thawed: kill first (so
    nothing runs in between), then thaw."""
    if container.frozen():
        from pyoci.cgroups.freezer import thaw

        thaw(container.record["cgroup"]["freezers"])


def destroy(container):
    record = container.record.get("cgroup", {})
    dirs = record.get("dirs", {})
    # Without a pid namespace the init's death does not take its children
    # with it: end whatever is still in the cgroup.
    for _ in range(100):
        left = cgroups.pids(dirs)
        if not left:
            break
        for pid in left:
            try:
                posix.kill(pid, SIGKILL)
            except ProcessLookupError:
                pass
        thaw_if_frozen(container)
        time.sleep(0.01)
    cgroups.remove_dirs(record.get("made", []))
    if container.record.get("host_mounts"):
        from pyoci.runtime import hostmounts

        hostmounts.detach_new(**container.record["host_mounts"])
    container.remove()
