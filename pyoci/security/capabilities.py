"""Capability names <-> bits, for process.capabilities.

Used when compiling the plan (create, exec): the five sets become bit masks
the shim applies around the uid/gid switch.
"""
from pyoci.core.errors import ConfigError

# Index in this tuple = capability number (linux/capability.h).
NAMES = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
    "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
    "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
    "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
)
BITS = {name: i for i, name in enumerate(NAMES)}
SETS = ("bounding", "effective", "permitted", "inheritable", "ambient")


def names(bits):
    return [name for i, name in enumerate(NAMES) if bits & (1 << i)]


def last_cap():
    """Highest capability the running kernel knows."""
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            return int(f.read())
    except OSError:
        return len(NAMES) - 1


def mask(names, field, kernel_last, log=None):
    """Bit mask of names; an unknown name is a config error, one the kernel
    lacks is skipped (as runc does) with a debug record."""
    bits = 0
    for name in names:
        bit = BITS.get(name.upper() if name.upper().startswith("CAP_") else "CAP_" + name.upper())
        if bit is None:
            raise ConfigError(f"{field}: unknown capability {name!r}")
        if bit > kernel_last:
            if log:
                log.debug(f"{field}: {name} is not supported by this kernel, skipped")
            continue
        bits |= 1 << bit
    return bits
