"""What the end-to-end tests with real engines (podman, containerd) share:
the runtimes they compare, and looking at a container's cgroups from the
host.  The engines run pyoci and runc side by side; each test is run once
per runtime so a difference is a failing test with the runtime in its id."""
import os
import shutil
import sys

import pytest

CGROUP_ROOT = "/sys/fs/cgroup"


def engine_runtimes():
    """(name, binary) of the runtimes the engines are pointed at: the pyoci
    installed beside this Python, and runc for parity.  podman knows a
    runtime by the binary's name (runtime_supports_json), so it is kept."""
    found = [("pyoci", os.path.join(os.path.dirname(sys.executable), "pyoci"))]
    runc = shutil.which("runc")
    if runc:
        found.append(("runc", runc))
    return found


RUNTIME_PARAMS = [pytest.param(binary, id=name) for name, binary in engine_runtimes()]


def cgroup_dir(pid, controller):
    """The host directory of pid's cgroup holding controller: its v1
    hierarchy's, or the unified one's where there is no v1 hierarchy for it."""
    unified = None
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            _num, controllers, path = line.rstrip("\n").split(":", 2)
            if controller in controllers.split(","):
                return os.path.join(CGROUP_ROOT, controllers, path.lstrip("/"))
            if controllers == "":
                unified = path
    for mountpoint in (CGROUP_ROOT, os.path.join(CGROUP_ROOT, "unified")):
        if unified is not None and os.path.exists(os.path.join(mountpoint, "cgroup.controllers")):
            return os.path.join(mountpoint, unified.lstrip("/"))
    raise AssertionError(f"no cgroup of {pid} holds {controller}")


def cgroup_value(pid, controller, v1_file, v2_file):
    directory = cgroup_dir(pid, controller)
    name = v1_file if os.path.exists(os.path.join(directory, v1_file)) else v2_file
    with open(os.path.join(directory, name)) as f:
        return f.read().strip()


def remove_cgroup_tree(relative):
    """rmdir relative and everything under it in every hierarchy, deepest first."""
    for hierarchy in os.listdir(CGROUP_ROOT):
        top = os.path.join(CGROUP_ROOT, hierarchy, relative.lstrip("/"))
        if not os.path.isdir(top):
            continue
        for directory, _dirs, _files in sorted(os.walk(top), key=lambda entry: -entry[0].count("/")):
            os.rmdir(directory)


def cgroup_trees_named(relative):
    return [h for h in os.listdir(CGROUP_ROOT) if os.path.isdir(os.path.join(CGROUP_ROOT, h, relative.lstrip("/")))]


def status_fields(pid):
    """/proc/pid/status as {field: value}."""
    with open(f"/proc/{pid}/status") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
