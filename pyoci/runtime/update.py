"""`update`: apply a linux.resources object to a created, running or paused
container's cgroups (pyoci.cgroups.resources, as create does), and record
it, so that the next update's memory.checkBeforeUpdate knows it."""
from pyoci import cgroups, paths
from pyoci.cgroups import resources as cgroup_resources
from pyoci.errors import ConfigError, WrongState
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
    out = {key: dict(value) if isinstance(value, dict) else value for key, value in old.items()}
    for key, value in new.items():
        out[key] = dict(out.get(key, {}), **value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
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
        dirs = record.get("cgroup", {}).get("dirs", {})
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
        from pyoci.log import log

        resources = applicable_resources(resources, dirs, found, log)
        cgroup_resources.apply(resources, dirs, found, made=record.get("cgroup", {}).get("made", ()))
        record["resources"] = merged(recorded, resources)
        container.save(record)
    finally:
        container.unlock()
