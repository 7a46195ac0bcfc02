"""What the benchmark needs to know about the host: the cgroup layout, how
to invoke each runtime here, the machine's description, and what a run may
leave behind (mounts, cgroups)."""
import os
import platform
import shlex
import shutil
import subprocess

# crun 1.8 refuses a hybrid host (v1 controllers plus cgroup2 at
# /sys/fs/cgroup/unified); in a private mount namespace without the cgroup2
# mount it runs as on a pure v1 host.  The namespace lives as long as the
# command, so nothing is unmounted for anyone else.
CRUN_WRAPPER = ["unshare", "-m", "--propagation", "slave",
                "sh", "-c", 'umount -l /sys/fs/cgroup/unified; exec "$0" "$@"']


def mounts():
    """(mount point, fstype, source) of every mount in our namespace."""
    with open("/proc/self/mountinfo") as f:
        entries = [line.split(" - ") for line in f]
    return [(left.split()[4], *right.split()[:2]) for left, right in entries]


def cgroup_layout():
    v1 = sorted(point.rsplit("/", 1)[1] for point, fstype, _ in mounts() if fstype == "cgroup")
    v2 = [point for point, fstype, _ in mounts() if fstype == "cgroup2"]
    if v1 and v2:
        return f"hybrid: v1 {','.join(v1)} + cgroup2 at {','.join(v2)}"
    return "v1: " + ",".join(v1) if v1 else "v2 at " + ",".join(v2)


def is_hybrid():
    cgroups = {point: fstype for point, fstype, _ in mounts() if fstype.startswith("cgroup")}
    return cgroups.get("/sys/fs/cgroup/unified") == "cgroup2" and "cgroup" in cgroups.values()


def invocation(cmd):
    """The argv prefix that runs the runtime command cmd (a list) on this host."""
    if os.path.basename(cmd[0]) == "crun" and is_hybrid():
        return CRUN_WRAPPER + cmd
    return cmd


def default_runtimes(repo):
    """name=command of pyoci (the repository's venv first), runc and crun, those found."""
    venv_pyoci = os.path.join(repo, ".venv", "bin", "pyoci")
    found = {"pyoci": venv_pyoci if os.access(venv_pyoci, os.X_OK) else shutil.which("pyoci"),
             "runc": shutil.which("runc"), "crun": shutil.which("crun")}
    return [(name, shlex.quote(path)) for name, path in found.items() if path]


def interpreter(cmd):
    """The Python behind runtime command cmd as an argv, or None if it has none:
    the python3 next to a launcher (pyoci's compiled launcher execs that one),
    else a python named on the script's #! line."""
    path = shutil.which(cmd[0])
    neighbour = os.path.join(os.path.dirname(path), "python3")
    if os.access(neighbour, os.X_OK):
        return [neighbour]
    with open(path, "rb") as f:
        first = f.readline()
    return first[2:].decode().split() if first.startswith(b"#!") and b"python" in first else None


def first_line(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        return "unknown"


def machine(python):
    with open("/proc/cpuinfo") as f:
        model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "unknown")
    return {"kernel": platform.release(), "cpus": os.cpu_count(), "cpu_model": model,
            "cgroups": cgroup_layout(),
            "python": first_line(python + ["-c", "import sys; print(sys.version.split()[0])"]) if python
            else platform.python_version()}


def cgroup_dirs(tag):
    """Cgroups named with tag: every runtime names a container's cgroups after its id."""
    return sorted(base for base, _dirs, _files in os.walk("/sys/fs/cgroup") if tag in os.path.basename(base))
