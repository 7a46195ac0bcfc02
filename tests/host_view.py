"""Looking at a container from the host: its process's cgroups in the
host's cgroupfs, and /proc/<pid>/status."""
import os

CGROUP_ROOT = "/sys/fs/cgroup"


def cgroup_dirs(pid):
    """{controllers: host directory} of pid's cgroups, one per hierarchy;
    the unified hierarchy's key is ""."""
    found = {}
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            _num, controllers, path = line.rstrip("\n").split(":", 2)
            if controllers == "":
                unified = os.path.join(CGROUP_ROOT, "unified")
                mountpoint = unified if os.path.isdir(unified) else CGROUP_ROOT
            else:
                mountpoint = os.path.join(CGROUP_ROOT, controllers.replace("name=", ""))
            found[controllers] = os.path.join(mountpoint, path.lstrip("/"))
    return found


def cgroup_dir(pid, controller):
    """The host directory of pid's cgroup holding controller: its v1
    hierarchy's, or the unified one's where no v1 hierarchy has it."""
    found = cgroup_dirs(pid)
    return next((d for c, d in found.items() if controller in c.split(",")), found.get(""))


def cgroup_value(pid, controller, v1_file, v2_file):
    directory = cgroup_dir(pid, controller)
    name = v1_file if os.path.exists(os.path.join(directory, v1_file)) else v2_file
    with open(os.path.join(directory, name)) as f:
        return f.read().strip()


def hierarchy_roots():
    """The mount point of every cgroup hierarchy on this host: each v1
    controller's and cgroup2's (at /sys/fs/cgroup itself on a pure v2 host)."""
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            if right.split()[0] in ("cgroup", "cgroup2") and left.split()[3] == "/":
                found.append(left.split()[4])
    return sorted(set(found))


def pure_v2():
    """cgroup2 alone, at /sys/fs/cgroup: the layout of the v2 lane."""
    return hierarchy_roots() == [CGROUP_ROOT] and os.path.exists(os.path.join(CGROUP_ROOT, "cgroup.controllers"))


def remove_cgroup_tree(relative):
    """rmdir relative and everything under it in every hierarchy, deepest first."""
    for top in cgroup_trees_named(relative):
        for directory, _dirs, _files in sorted(os.walk(top), key=lambda entry: -entry[0].count("/")):
            os.rmdir(directory)


def cgroup_trees_named(relative):
    """relative's directory in each hierarchy that has it."""
    found = [os.path.join(root, relative.lstrip("/")) for root in hierarchy_roots()]
    return [d for d in found if os.path.isdir(d)]


def status_fields(pid):
    """/proc/pid/status as {field: value}."""
    with open(f"/proc/{pid}/status") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
