"""config.process -> the steps that turn the init into the user's program
(create: after pivot_root, around the wait for `start`).

Order matters and follows runc: console, rlimits, the AppArmor profile and
the scheduling settings (pyoci.plan.tuning) while still root; the bounding set dropped and keep-caps set before the
uid/gid switch so the wanted capabilities survive it; then the five sets, no_new_privs, umask,
cwd, and the program looked up before waiting for start.  After start come
the startContainer hooks and execve.
"""
from pyoci._constants import RLIMITS
from pyoci.core.errors import ConfigError
from pyoci.plan.tuning import compile_tuning, exec_cpu_affinity
from pyoci.security import capabilities


def rlimit_number(name, field):
    if name not in RLIMITS:
        raise ConfigError(f"{field}: unknown rlimit {name!r}")
    return RLIMITS[name]


def compile_rlimits(plan, process):
    seen = set()
    for i, rl in enumerate(process.get("rlimits", [])):
        field = f"process.rlimits[{i}]"
        if rl["type"] in seen:
            raise ConfigError(f"{field}.type: duplicate rlimit {rl['type']}")
        seen.add(rl["type"])
        number = rlimit_number(rl["type"], f"{field}.type")
        if rl["soft"] > rl["hard"]:
            raise ConfigError(f"{field}: soft limit {rl['soft']} is above the hard limit {rl['hard']}")
        plan.add("SETRLIMIT", f"{field} {rl['type']}: setrlimit", resource=number, soft=rl["soft"],
                 hard=rl["hard"])


def capability_masks(process, log):
    caps = process.get("capabilities", {})
    last = capabilities.last_cap()
    masks = {s: capabilities.mask(caps.get(s, []), f"process.capabilities.{s}", last, log) for s in capabilities.SETS}
    # The kernel raises an ambient capability only if it is inheritable and
    # permitted too.  runc warns and goes on, and its own `runc spec` lists
    # ambient ones without inheritable: drop them the same way.
    raisable = masks["ambient"] & masks["inheritable"] & masks["permitted"]
    if raisable != masks["ambient"]:
        dropped = capabilities.names(masks["ambient"] & ~raisable)
        log.warning(f"process.capabilities.ambient: {', '.join(dropped)} not raised: an ambient capability "
                    "must also be inheritable and permitted")
        masks["ambient"] = raisable
    return masks, last


def compile_user(plan, process, setgroups_allowed=True):
    user = process.get("user", {})
    uid, gid = user.get("uid", 0), user.get("gid", 0)
    if setgroups_allowed:
        plan.add("SETGROUPS", "process.user.additionalGids: setgroups",
                 count=len(user.get("additionalGids", [])), gids=list(user.get("additionalGids", [])) or [0])
    plan.add("SETID", f"process.user: setresgid {gid}/setresuid {uid}", uid=uid, gid=gid)


def environment_path(env):
    for item in env:
        if item.startswith("PATH="):
            return item[5:]
    return None


def compile_process(plan, config, log, setgroups_allowed=True, for_exec=False):
    """Steps from the console to execve; config.process must be present.
    for_exec: a process `exec` adds to a running container, which waits for
    no start and runs no startContainer hooks."""
    process = config["process"]
    if process.get("terminal"):
        size = process.get("consoleSize", {})
        plan.add("CONSOLE", "process.terminal: console", rows=size.get("height", 0),
                 cols=size.get("width", 0))
    compile_rlimits(plan, process)
    if process.get("apparmorProfile"):
        from pyoci.security.apparmor import add_profile_step

        add_profile_step(plan, process["apparmorProfile"], "process.apparmorProfile")
    compile_tuning(plan, config)
    if not for_exec and process.get("execCPUAffinity"):
        exec_cpu_affinity(process)  # checked now; used by exec
        log.debug("process.execCPUAffinity: applies to the processes exec starts, not the init (as the spec says)")
    masks, last = capability_masks(process, log)
    seccomp = seccomp_step(config, log)
    load_early = seccomp and not process.get("noNewPrivileges")
    # A notify fd must reach the seccomp agent while create still runs.
    load_before_start = False
    if seccomp and not load_early:
        from pyoci.security.seccomp import NEW_LISTENER

        load_before_start = bool(seccomp.flags & NEW_LISTENER)
    if load_early:
        # Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: do it
        # while the init still has it, before any capability is dropped, and
        # after the fd work a profile need not allow (close_range).
        plan.add("CLOSE_ON_EXEC", "fds: close on exec")
        plan.steps.append(seccomp)
    plan.add("KEEP_CAPS", "process.capabilities.bounding: drop bounding set", bounding=masks["bounding"],
             last_cap=last)
    compile_user(plan, process, setgroups_allowed)
    plan.add(
        "CAPS",
        "process.capabilities: capset",
        effective=masks["effective"],
        permitted=masks["permitted"],
        inheritable=masks["inheritable"],
        ambient=masks["ambient"],
    )
    if process.get("noNewPrivileges"):
        plan.add("NO_NEW_PRIVS", "process.noNewPrivileges: prctl")
    umask = process.get("user", {}).get("umask", 0o022)
    plan.add("UMASK", "process.user.umask", mask=umask)
    plan.add("CHDIR", f"process.cwd {process['cwd']}: chdir", path=process["cwd"])
    env = process.get("env", [])
    args = process["args"]
    plan.add("RESOLVE_EXEC", f"process.args[0] {args[0]}: exec", program=args[0], path=environment_path(env))
    if load_before_start:
        plan.steps.append(seccomp)
    if not for_exec:
        plan.add("WAIT_START", "start")
        for i, hook in enumerate(config.get("hooks", {}).get("startContainer", [])):
            add_hook(plan, hook, f"hooks.startContainer[{i}]")
    if not load_early:
        plan.add("CLOSE_ON_EXEC", "fds: close on exec")
    if seccomp and not load_early and not load_before_start:
        # As late as possible: a profile may block what the runtime itself
        # still needs (getcwd, the hooks' execve), never the program's start.
        plan.steps.append(seccomp)
    plan.add("EXEC", f"process.args[0] {args[0]}: exec", args=list(args), env=list(env))


def seccomp_step(config, log):
    profile = config.get("linux", {}).get("seccomp")
    if not profile:
        return None
    from pyoci.plan.steps import Step
    from pyoci.security.seccomp import compile_profile

    program, flags = compile_profile(profile, log)
    return Step("SECCOMP", "linux.seccomp: load filter", length=len(program) // 8, flags=flags,
                program=program)


def add_hook(plan, hook, field):
    plan.add(
        "HOOK",
        f"{field} {hook['path']}",
        path=hook["path"],
        timeout=hook.get("timeout", 0),
        args=list(hook.get("args") or [hook["path"]]),
        env=list(hook.get("env", [])),
    )
