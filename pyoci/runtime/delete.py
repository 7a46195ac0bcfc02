"""`delete`: remove a stopped container (with -f, any container).

The spec: deleting a container that is not stopped fails and changes
nothing.  runc deletes a `created` one anyway; pyoci follows the spec, and
the engines pass --force when they mean it.  Deletion kills what is left in
the cgroup, removes the cgroups pyoci made and the state directory, then
runs the poststop hooks.

--force also removes what a create killed midway left (no state.json yet),
and a container whose state.json is damaged, from cleanup.json: the
processes and cgroups it names, the directory, and so the id.
"""
import posix  # not os: see pyoci.core.paths
import time
from _signal import SIGKILL  # not signal: see pyoci.runtime.kill

from pyoci import cgroups
from pyoci.launch import steps
from pyoci.runtime import members
from pyoci.core.errors import NotFound, WrongState
from pyoci.state import Container, Damaged, Unfinished


def wait_gone(container, timeout=10.0):
    deadline = time.monotonic() + timeout
    while container.init_alive() and time.monotonic() < deadline:
        time.sleep(0.005)


def delete(root, container_id, force=False):
    container = Container(root, container_id)
    try:
        container.lock()
        container.load()
    except (Unfinished, Damaged):
        if not force:
            container.unlock()
            raise
        try:
            remove_remains(container)
        finally:
            container.unlock()
        return
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
            end_processes(container)
            wait_gone(container)
        destroy(container)
    finally:
        container.unlock()
    hooks = container.record.get("hooks")
    if hooks:  # the module only when there are hooks: delete is on every engine's hot path
        from pyoci.hooks import run_hooks

        run_hooks(hooks, "poststop", container.spec_state("stopped"), fatal=False)


def end_processes(container, rounds=100):
    """SIGKILL the init and the rest of the container's processes, none
    escaping by forking meanwhile: cgroup.kill where cgroup2 has it, which
    does all of it at once; then (and elsewhere only) freeze the cgroup,
    kill what is in it, thaw (a frozen process acts on SIGKILL only once
    thawed), and again until it is empty.  Without a pid namespace, the
    init's death does not take the rest with it; a paused container is
    frozen already.  In a cgroup pyoci did not make only the container's
    own processes are killed, and the cgroup, which others share, is never
    frozen (pyoci.runtime.members)."""
    cgroup = container.record.get("cgroup", {})
    owned = members.owns_cgroup(cgroup)
    freezers = cgroup.get("freezers", []) if owned else []
    if owned:
        cgroups.kill_all(cgroup.get("dirs", {}))
    for _ in range(rounds):
        alive = container.init_alive()
        left = members.container_pids(cgroup, container.record["pid"] if alive else 0)
        if alive:
            left.append(container.record["pid"])
        if not left:
            return
        if freezers:
            from pyoci.cgroups.freezer import freeze, thaw
            from pyoci.core.errors import PyociError

            try:
                freeze(freezers, "delete", timeout=1.0)
            except PyociError:  # a task that will not freeze: kill what can be killed
                pass
        for pid in left:
            try:
                posix.kill(pid, SIGKILL)
            except ProcessLookupError:
                pass
        if freezers:
            thaw(freezers)
        time.sleep(0.01)


def remove_remains(container):
    """What cleanup.json names (nothing, where it was never written: then
    create had made nothing but the directory): the init while it is the
    one recorded, the processes in cgroups pyoci made, those cgroups, the
    mounts left in the host's namespace; then the directory.  No hooks run:
    the config that named them is not to be trusted or not there."""
    container.record = {"pid": 0, "init_start_time": 0, **container.load_cleanup()}
    destroy(container)


def destroy(container):
    end_processes(container)
    steps.reached("delete:processes-ended")
    recorded = container.record.get("cgroup", {})
    cgroups.remove_made(recorded.get("made", []), recorded.get("dirs", {}))
    steps.reached("delete:cgroups-removed")
    if container.record.get("host_mounts"):
        from pyoci.runtime import hostmounts

        hostmounts.detach_new(**container.record["host_mounts"])
    container.remove()
