"""`pause` and `resume`: freeze every process of a running container, and
thaw a paused one (pyoci.cgroups.freezer).  The status is read back from the
freezer, so `state` says "paused" for as long as the cgroup is frozen."""
from pyoci.core.errors import WrongState
from pyoci.state import Container


def _change(root, container_id, verb, status_needed, act):
    """Under the container's lock: act(container) if its status is status_needed."""
    container = Container(root, container_id)
    container.lock()
    try:
        container.load()
        status = container.status()
        if status != status_needed:
            raise WrongState(f"cannot {verb} container {container_id}: it is {status}, not {status_needed}")
        act(container)
    finally:
        container.unlock()


def pause(root, container_id):
    from pyoci.cgroups.freezer import freeze

    def act(container):
        refuse_if_shared(container)
        freeze(container.record["cgroup"]["freezers"], f"pause {container_id}")

    _change(root, container_id, "pause", "running", act)


def refuse_if_shared(container):
    """A freezer freezes the whole cgroup: in one the container shares with
    processes that are not its own (pyoci.runtime.members), pause would stop
    them too."""
    from pyoci.runtime import members

    cgroup = container.record["cgroup"]
    if members.owns_cgroup(cgroup):
        return
    others = members.others_in_cgroup(container)
    if others:
        raise WrongState(f"cannot pause container {container.id}: its cgroup holds {len(others)} process(es) that are "
                         "not the container's, and freezing it would stop them too")


def resume(root, container_id):
    from pyoci.cgroups.freezer import thaw

    _change(root, container_id, "resume", "paused", lambda container: thaw(container.record["cgroup"]["freezers"]))
