"""Build tool: the kernel constants pyoci's Python uses, read from the C
headers of the machine pyoci is built on and written as
pyoci/_constants.py (setup.py's BuildPackage runs it).

So that the plan (pyoci.plan), the seccomp and device programs and the
rest have the kernel's numbers without copying them by hand and without
loading the compiled shim: a plan can be made, and tested, where the
extension is not built.  A name the headers lack fails the build, with
the compiler's error, except the few of ABI_VALUES.
"""
import os
import subprocess
import tempfile

HEADERS = ("errno.h", "net/if.h", "sys/personality.h", "sys/resource.h", "seccomp.h", "linux/bpf.h",
           "linux/if_addr.h", "linux/ioprio.h", "linux/mempolicy.h", "linux/mount.h", "linux/nsfs.h",
           "linux/rtnetlink.h", "linux/sched.h", "linux/seccomp.h", "linux/sockios.h")


def _same(prefix, names, c_prefix=None):
    """{prefix + name: the C name c_prefix + name}."""
    return {prefix + name: (c_prefix if c_prefix is not None else prefix) + name for name in names}


# Each constant: its name in pyoci/_constants.py -> the C expression for it.
SCALARS = {
    **_same("MS_", ("RDONLY", "NOSUID", "NODEV", "NOEXEC", "SYNCHRONOUS", "REMOUNT", "MANDLOCK", "DIRSYNC",
                    "NOSYMFOLLOW", "NOATIME", "NODIRATIME", "BIND", "REC", "SILENT", "UNBINDABLE", "PRIVATE",
                    "SLAVE", "SHARED", "RELATIME", "I_VERSION", "STRICTATIME", "LAZYTIME")),
    # mount_setattr(2)'s MOUNT_ATTR_*, for the recursive mount options
    **_same("ATTR_", ("RDONLY", "NOSUID", "NODEV", "NOEXEC", "_ATIME", "RELATIME", "NOATIME", "STRICTATIME",
                      "NODIRATIME", "NOSYMFOLLOW"), "MOUNT_ATTR_"),
    "NS_GET_NSTYPE": "NS_GET_NSTYPE",  # the ioctl that tells a namespace fd's type
    # what the shim's socket calls return (negated), without importing errno on every command
    "EINTR": "EINTR", "EINVAL": "EINVAL", "EMSGSIZE": "EMSGSIZE",
    "IOPRIO_CLASS_SHIFT": "IOPRIO_CLASS_SHIFT",
    # the eBPF instructions of the cgroup v2 device program
    **_same("BPF_", ("LDX", "W", "MEM", "ALU64", "AND", "RSH", "MOV", "K", "X", "JMP", "JEQ", "JNE", "EXIT",
                     "MAXINSNS", "DEVCG_DEV_BLOCK", "DEVCG_DEV_CHAR", "DEVCG_ACC_MKNOD", "DEVCG_ACC_READ",
                     "DEVCG_ACC_WRITE")),
    "SECCOMP_FILTER_FLAG_NEW_LISTENER": "SECCOMP_FILTER_FLAG_NEW_LISTENER",
    # the loopback a restored network namespace brings up; the addresses it keeps
    **_same("", ("SIOCGIFFLAGS", "SIOCSIFFLAGS", "IFF_UP", "IFF_RUNNING", "IFA_F_PERMANENT", "RT_SCOPE_UNIVERSE")),
}
# Each table: its name -> {key (the spec's or runc's name) -> C expression}.
TABLES = {
    # linux.namespaces type -> CLONE_NEW*
    "NAMESPACES": {"mount": "CLONE_NEWNS", "cgroup": "CLONE_NEWCGROUP", "uts": "CLONE_NEWUTS", "ipc": "CLONE_NEWIPC",
                   "user": "CLONE_NEWUSER", "pid": "CLONE_NEWPID", "network": "CLONE_NEWNET",
                   "time": "CLONE_NEWTIME"},
    # The rlimits' numbers differ between architectures.
    "RLIMITS": _same("RLIMIT_", ("CPU", "FSIZE", "DATA", "STACK", "CORE", "RSS", "NPROC", "NOFILE", "MEMLOCK", "AS",
                                 "LOCKS", "SIGPENDING", "MSGQUEUE", "NICE", "RTPRIO", "RTTIME")),
    # process.scheduler (the uapi calls SCHED_OTHER SCHED_NORMAL)
    "SCHED_POLICIES": {"SCHED_OTHER": "SCHED_NORMAL",
                       **_same("SCHED_", ("FIFO", "RR", "BATCH", "ISO", "IDLE", "DEADLINE"))},
    "SCHED_FLAGS": _same("SCHED_FLAG_", ("RESET_ON_FORK", "RECLAIM", "DL_OVERRUN", "KEEP_POLICY", "KEEP_PARAMS",
                                         "UTIL_CLAMP_MIN", "UTIL_CLAMP_MAX")),
    "IOPRIO_CLASSES": _same("IOPRIO_CLASS_", ("RT", "BE", "IDLE")),
    # linux.personality.domain
    "PERSONALITY_DOMAINS": {"LINUX": "PER_LINUX", "LINUX32": "PER_LINUX32"},
    # linux.memoryPolicy
    "MEMORY_POLICY_MODES": _same("MPOL_", ("DEFAULT", "PREFERRED", "BIND", "INTERLEAVE", "LOCAL", "PREFERRED_MANY",
                                           "WEIGHTED_INTERLEAVE")),
    "MEMORY_POLICY_FLAGS": _same("MPOL_F_", ("NUMA_BALANCING", "RELATIVE_NODES", "STATIC_NODES")),
    # linux.seccomp: libseccomp's action names -> the kernel's SECCOMP_RET_*
    "SECCOMP_ACTIONS": {"SCMP_ACT_KILL": "SECCOMP_RET_KILL_THREAD", "SCMP_ACT_KILL_THREAD": "SECCOMP_RET_KILL_THREAD",
                        "SCMP_ACT_KILL_PROCESS": "SECCOMP_RET_KILL_PROCESS", "SCMP_ACT_TRAP": "SECCOMP_RET_TRAP",
                        "SCMP_ACT_ERRNO": "SECCOMP_RET_ERRNO", "SCMP_ACT_TRACE": "SECCOMP_RET_TRACE",
                        "SCMP_ACT_LOG": "SECCOMP_RET_LOG", "SCMP_ACT_ALLOW": "SECCOMP_RET_ALLOW",
                        "SCMP_ACT_NOTIFY": "SECCOMP_RET_USER_NOTIF"},
    "SECCOMP_OPERATORS": _same("SCMP_CMP_", ("NE", "LT", "LE", "EQ", "GE", "GT", "MASKED_EQ")),
    "SECCOMP_FLAGS": _same("SECCOMP_FILTER_FLAG_", ("TSYNC", "LOG", "SPEC_ALLOW", "WAIT_KILLABLE_RECV")),
}
# Names the spec has whose value the kernel's ABI fixed, but which a build
# host's headers may lack: SCHED_ISO is reserved in linux/sched.h without a
# definition, MPOL_WEIGHTED_INTERLEAVE came with Linux 6.9's headers.  Where
# the headers have the name, the build checks that it is this value.
ABI_VALUES = {"SCHED_ISO": 4, "MPOL_WEIGHTED_INTERLEAVE": 6}


def _includes():
    return [f"#include <{header}>" for header in HEADERS]


def _compiles(source, tmp, cc):
    path = os.path.join(tmp, "probe.c")
    with open(path, "w") as f:
        f.write(source)
    return subprocess.call([cc, "-fsyntax-only", path], stderr=subprocess.DEVNULL) == 0


def _program(absent):
    """C that prints each constant as a line of Python; a name in absent
    is its ABI_VALUES value."""
    lines = _includes() + ["#include <stdio.h>"]
    for name, value in ABI_VALUES.items():
        if name not in absent:
            lines.append(f'_Static_assert({name} == {value}, "{name} is not {value} in these headers");')
    lines += ["int main(void)", "{"]

    def value(python, c_name, end=""):
        if c_name in absent:
            c_name = str(ABI_VALUES[c_name])
        lines.append(f'    printf("{python}%#llx{end}\\n", (unsigned long long)({c_name}));')

    for name, c_name in SCALARS.items():
        value(f"{name} = ", c_name)
    for table, entries in TABLES.items():
        lines.append(f'    printf("{table} = {{\\n");')
        for key, c_name in entries.items():
            value(f'    \\"{key}\\": ', c_name, ",")
        lines.append('    printf("}\\n");')
    lines += ["    return 0;", "}"]
    return "\n".join(lines) + "\n"


def generate():
    """pyoci/_constants.py's text."""
    cc = os.environ.get("CC", "cc")
    with tempfile.TemporaryDirectory() as tmp:
        absent = {name for name in ABI_VALUES
                  if not _compiles("\n".join(_includes() + [f"int probe = {name};"]) + "\n", tmp, cc)}
        source, binary = os.path.join(tmp, "constants.c"), os.path.join(tmp, "constants")
        with open(source, "w") as f:
            f.write(_program(absent))
        subprocess.check_call([cc, "-o", binary, source])
        values = subprocess.check_output([binary], text=True)
    note = "".join(f"# {name}: not in these headers; {ABI_VALUES[name]}, the kernel's value\n" for name in sorted(absent))
    return ('"""Kernel constants from the C headers pyoci was built with, written at build time by\n'
            'pyoci/_native/constants.py (SCALARS and TABLES there say what each is)."""\n' + note + values)
