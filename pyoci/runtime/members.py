"""Which processes are the container's (delete, kill --all, ps, and
create's undo): what may be signalled in its name.

A cgroup pyoci made for the container holds nothing but the container's
processes, so everything in it and below it is the container's, and
cgroup.kill may end it at once.  linux.cgroupsPath may also name a cgroup
that already existed, even one holding other processes (create warns, as
runc does): there only the container's own are, the processes in its pid
namespace when it has one of its own, else its init and the init's
descendants.  The rest were there before it and are spared.
"""
from pyoci import cgroups
from pyoci.core.procfs import namespace_inode, parent_pid


def owns_cgroup(cgroup_record):
    """Whether pyoci made the container's cgroups (records from before this
    was kept: it always had)."""
    return cgroup_record.get("owned", True)


def container_pids(cgroup_record, init_pid):
    """Host pids of the container's processes in its cgroups; init_pid is
    its init while that lives, else 0."""
    found = cgroups.pids(cgroup_record.get("dirs", {}))
    if owns_cgroup(cgroup_record):
        return found
    pidns = cgroup_record.get("pidns")
    if pidns:
        return [pid for pid in found if namespace_inode(pid, "pid") == pidns]
    return [pid for pid in found if descends_from(pid, init_pid)] if init_pid else []


def of_container(container):
    """container_pids of a loaded pyoci.state.Container."""
    return container_pids(container.record.get("cgroup", {}), container.record["pid"] if container.init_alive() else 0)


def others_in_cgroup(container):
    """The processes in the container's cgroups that are not the container's."""
    return set(cgroups.pids(container.record.get("cgroup", {}).get("dirs", {}))) - set(of_container(container))


def own_pid_namespace(pid):
    """The init's pid namespace, when it is not the runtime's: what
    container_pids matches in a cgroup the container shares."""
    inode = namespace_inode(pid, "pid")
    return inode if inode != namespace_inode("self", "pid") else None


def descends_from(pid, ancestor, limit=4096):
    for _ in range(limit):
        if pid == ancestor:
            return True
        if pid is None or pid <= 1:
            return False
        pid = parent_pid(pid)
    return False


def populated_by_others(dirs, made):
    """The container's cgroups pyoci did not make that hold processes
    already, with how many: {directory: count}."""
    return {d: len(pids) for d in dirs.values() if d not in made and (pids := cgroups.pids({"": d}))}
