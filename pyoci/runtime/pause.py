"""`pause` and `resume`: freeze every process of a running container, and
thaw a paused one (pyoci.cgroups.freezer).  The status is read back from the
freezer, so `state` says "paused" for as long as the cgroup is frozen."""
from pyoci.errors import WrongState
from pyoci.state import Container


def _locked(root, container_id):
    container = Container(root, container_id)
    container.lock()
    container.load()
    return container


def pause(root, container_id):
    from pyoci.cgroups.freezer import freeze

    container = _locked(root, container_id)
    try:
        status = container.status()
        if status != "running":
            raise WrongState(f"cannot pause container {container_id}: it is {status}, not running")
        freeze(container.record["cgroup"]["freezers"], f"pause {container_id}")
    finally:
        container.unlock()


def resume(root, container_id):
    from pyoci.cgroups.freezer import thaw

    container = _locked(root, container_id)
    try:
        status = container.status()
        if status != "paused":
            raise WrongState(f"cannot resume container {container_id}: it is {status}, not paused")
        thaw(container.record["cgroup"]["freezers"])
    finally:
        container.unlock()
