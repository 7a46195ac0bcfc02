"""`pause` and `resume`: freeze every process of a running container, and
thaw a paused one (pyoci.cgroups.freezer).  The status is read back from the
freezer, so `state` says "paused" for as long as the cgroup is frozen."""
from pyoci.errors import WrongState
from pyoci.state import Container


def _change(root, container_id, verb, status_needed, act):
    """Under the container's lock: act(freezer files) if its status is status_needed."""
    container = Container(root, container_id)
    container.lock()
    try:
        container.load()
        status = container.status()
        if status != status_needed:
            raise WrongState(f"cannot {verb} container {container_id}: it is {status}, not {status_needed}")
        act(container.record["cgroup"]["freezers"])
    finally:
        container.unlock()


def pause(root, container_id):
    from pyoci.cgroups.freezer import freeze

    _change(root, container_id, "pause", "running", lambda freezers: freeze(freezers, f"pause {container_id}"))


def resume(root, container_id):
    from pyoci.cgroups.freezer import thaw

    _change(root, container_id, "resume", "paused", thaw)
