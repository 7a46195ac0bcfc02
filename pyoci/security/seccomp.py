"""linux.seccomp -> a BPF program the container's init loads (create, exec).

The profile is compiled in the runtime with libseccomp (pyoci/_native/
seccomp.c); the child only loads the exported bytes.  Unknown syscall names
are skipped, as runc does (profiles list syscalls of many kernels); an
unknown action, architecture or operator is the schema's error.  A rule
comparing one argument twice becomes one rule per comparison (libseccomp
refuses the pair in one rule; runc does the same).

SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath: the filter is then loaded
with SECCOMP_FILTER_FLAG_NEW_LISTENER while `create` still runs, and create
sends the notify fd and the container process state to the seccomp agent
listening there (pyoci.runtime.create).
"""
import errno
import posix  # not os: see pyoci.core.paths

from pyoci._constants import (BPF_MAXINSNS, SECCOMP_ACTIONS, SECCOMP_FILTER_FLAG_NEW_LISTENER, SECCOMP_FLAGS,
                              SECCOMP_OPERATORS)
from pyoci.core.errors import ConfigError

ACTIONS, OPERATORS, FLAGS = SECCOMP_ACTIONS, SECCOMP_OPERATORS, SECCOMP_FLAGS
NEW_LISTENER = SECCOMP_FILTER_FLAG_NEW_LISTENER  # the kernel returns the notify fd
# The kernel loads no longer filter (EINVAL, which would not say why), and
# struct sock_fprog counts them in an unsigned short.
MAX_INSTRUCTIONS = BPF_MAXINSNS


def libseccomp_arch(name):
    """The spec's SCMP_ARCH_X86_64 as libseccomp names it: x86_64."""
    return name.lower().replace("scmp_arch_", "")


def action_value(name, errno_ret, field, errno_field):
    """The SECCOMP_RET_* value of action name with its errno (errnoRet)."""
    if name not in ACTIONS:
        raise ConfigError(f"{field}: unknown seccomp action {name!r}")
    value = ACTIONS[name]
    if name in ("SCMP_ACT_ERRNO", "SCMP_ACT_TRACE"):
        value |= (errno.EPERM if errno_ret is None and name == "SCMP_ACT_ERRNO" else errno_ret or 0) & 0xFFFF
    elif errno_ret is not None:  # the spec: an action without an errno must fail, not drop it
        raise ConfigError(f"{errno_field}: {name} returns no errno (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE do)")
    return value


def compile_profile(profile, log=None):
    """(bpf bytes, SECCOMP_FILTER_FLAG_* bits) for linux.seccomp."""
    from pyoci.security import libseccomp

    default = action_value(profile["defaultAction"], profile.get("defaultErrnoRet"), "linux.seccomp.defaultAction",
                           "linux.seccomp.defaultErrnoRet")
    flags = 0
    for i, flag in enumerate(profile.get("flags", [])):
        if flag not in FLAGS:
            raise ConfigError(f"linux.seccomp.flags[{i}]: unknown flag {flag!r}")
        flags |= FLAGS[flag]
    archs = [libseccomp_arch(a) for a in profile.get("architectures", [])]
    rules = []
    for i, syscall in enumerate(profile.get("syscalls", [])):
        field = f"linux.seccomp.syscalls[{i}]"
        action = action_value(syscall["action"], syscall.get("errnoRet"), f"{field}.action", f"{field}.errnoRet")
        if action == default:
            continue  # the default already does it; libseccomp refuses such a rule
        args = []
        for j, arg in enumerate(syscall.get("args", [])):
            if arg["op"] not in OPERATORS:
                raise ConfigError(f"{field}.args[{j}].op: unknown operator {arg['op']!r}")
            args.append((arg["index"], OPERATORS[arg["op"]], arg["value"], arg.get("valueTwo", 0)))
        indexes = [a[0] for a in args]
        groups = [args] if len(set(indexes)) == len(indexes) else [[a] for a in args]
        for name in syscall["names"]:
            number = libseccomp.syscall_number(name)
            if number is None:
                if log:
                    log.debug(f"{field}: syscall {name} is unknown here, skipped")
                continue
            rules.extend((action, number, group) for group in groups)
    if ACTIONS["SCMP_ACT_NOTIFY"] in [default] + [rule[0] for rule in rules]:
        if not profile.get("listenerPath"):
            raise ConfigError("linux.seccomp.listenerPath: SCMP_ACT_NOTIFY needs a seccomp agent to listen here")
        flags |= NEW_LISTENER
    try:
        program = libseccomp.seccomp_filter(default, archs, rules)
    except OSError as e:
        raise ConfigError(f"linux.seccomp: {e.strerror}: {posix.strerror(e.errno).lower()}") from None
    if len(program) // 8 > MAX_INSTRUCTIONS:
        raise ConfigError(f"linux.seccomp: the profile compiles to {len(program) // 8} BPF instructions; "
                          f"the kernel loads at most {MAX_INSTRUCTIONS} in a filter")
    return program, flags
