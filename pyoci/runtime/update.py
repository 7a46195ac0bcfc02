"""`update`: apply a linux.resources object to a created, running or paused
container's cgroups (pyoci.cgroups.resources, as create does), and record
it, so that the next update's memory.checkBeforeUpdate knows it.  New
device rules go on top of those in force; on cgroup v2 the device program
create attached is replaced by one built, as create builds it, from all of
them and linux.devices (recorded by create)."""
from pyoci import cgroups
from pyoci.core import paths
from pyoci.launch import steps
from pyoci.cgroups import resources as cgroup_resources
from pyoci.core.errors import ConfigError, WrongState
from pyoci.state import Container


def memory_usage(dirs):
    """Current memory use in bytes (v1 memory.usage_in_bytes, v2 memory.current), or None."""
    for d in dirs.values():
        for name in ("memory.usage_in_bytes", "memory.current"):
            try:
                with open(paths.join(d, name)) as f:
                    return int(f.read())
            except (OSError, ValueError):
                continue
    return None


def check_before_update(new, recorded, dirs):
    """memory.checkBeforeUpdate (from the request, else from create or the
    last update): a limit below what the container uses now is refused."""
    memory = new.get("memory", {})
    if "limit" not in memory or memory["limit"] < 0:
        return
    if not memory.get("checkBeforeUpdate", recorded.get("memory", {}).get("checkBeforeUpdate")):
        return
    usage = memory_usage(dirs)
    if usage is not None and memory["limit"] < usage:
        raise ConfigError(f"linux.resources.memory.limit: {memory['limit']} is below the {usage} bytes "
                          "the container uses now (checkBeforeUpdate)")


def merged(old, new):
    """The resources in force after an update: new's values over old's; new
    device rules go on top of the old ones (the later rule wins), as the
    cgroup applies them."""
    out = {key: dict(value) if isinstance(value, dict) else value for key, value in old.items()}
    for key, value in new.items():
        out[key] = dict(out.get(key, {}), **value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    if "devices" in new:
        from pyoci.cgroups.device_program import in_force

        out["devices"] = in_force(list(old.get("devices", [])) + list(new["devices"]))
    return out


def update(root, container_id, resources):
    container = Container(root, container_id)
    container.lock()
    try:
        container.load()
        status = container.status()
        if status == "stopped":
            raise WrongState(f"cannot update container {container_id}: it is stopped")
        record = container.record
        cgroup = record.get("cgroup", {})
        dirs = cgroup.get("dirs", {})
        recorded = record.get("resources", {})
        check_before_update(resources, recorded, dirs)
        # A new memory limit is checked against the swap limit in force.
        memory = resources.get("memory", {})
        if "limit" in memory and "swap" not in memory and "swap" in recorded.get("memory", {}):
            cgroup_resources.check_memory_swap(dict(recorded["memory"], **memory))
        found = cgroups.hierarchies()
        # What create would apply: no device rules from a caller the kernel
        # refuses them, no limit where the container has no cgroup (created
        # rootless without it). For the host's root with every cgroup, all.
        from pyoci.cgroups.delegation import applicable_resources
        from pyoci.core.log import log

        resources = applicable_resources(resources, dirs, found, log)
        # A container whose record names no device program (made by a pyoci
        # that did not record it) keeps it: the update's program joins it.
        devices = cgroup.get("devices", {})
        program = cgroup_resources.apply(resources, dirs, found, devices.get("nodes", ()), cgroup.get("made", ()),
                                         devices_before=recorded.get("devices", ()),
                                         program_before=devices.get("program"))
        steps.reached("update:resources-applied")
        record["resources"] = merged(recorded, resources)
        cgroup["devices"] = cgroup_resources.device_record(devices.get("nodes", ()), program)
        container.save(record)
    finally:
        container.unlock()
