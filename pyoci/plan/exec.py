"""The plan of `exec`: a new process in a created or running container.

It joins every namespace the container's init is in (through
/proc/<init>/ns, user first, mount last; a pid or time namespace takes one
more fork), is moved into the container's cgroups by the parent, and then
takes the same process steps as the init (pyoci.plan.process), without the
wait for start: user, capabilities, rlimits, no_new_privs, the container's
seccomp profile, then execve.
"""
from pyoci.plan.namespaces import compile_namespaces, namespace_types, setgroups_allowed
from pyoci.plan.process import compile_process
from pyoci.plan.steps import Plan

# linux.namespaces type -> its file in /proc/<pid>/ns
NS_FILES = {"pid": "pid", "network": "net", "ipc": "ipc", "uts": "uts", "mount": "mnt",
            "cgroup": "cgroup", "user": "user", "time": "time"}


def compile_exec_plan(config, process, init_pid, log, keep_fds=0):
    """config: the container's (for its namespaces and seccomp profile);
    process: the one to run (config.process with exec's changes)."""
    joined = [{"type": kind, "path": f"/proc/{init_pid}/ns/{NS_FILES[kind]}"}
              for kind in namespace_types(config)]
    linux = dict(config.get("linux", {}), namespaces=joined)
    exec_config = dict(config, linux=linux, process=process)
    plan = Plan()
    plan.keep_fds = keep_fds
    compile_namespaces(plan, exec_config)
    compile_process(plan, exec_config, log, setgroups_allowed(init_pid), for_exec=True)
    return plan
