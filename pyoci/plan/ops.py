"""The launch plan's operations, each declared once: its name and its named,
typed fields.

Where it sits: create's planning (pyoci.plan) builds steps by field name;
pyoci.launch.native packs them into struct pyoci_step (shim.h) for the child, and
the build (pyoci/_native/build.py) generates from this table the C side's
enum pyoci_op and one accessor per field (ops.h), which is how shim.c reads
a step.  Neither side names a slot: both take it from slot() here.

Plain data, no imports: the build loads this file on its own, before
pyoci is installed.
"""

# Field kinds: where a value travels in struct pyoci_step.
INT = "int"      # an unsigned long long in n[]
FD = "fd"        # a descriptor in n[], opened by pyoci.launch.native just before the clone
STR = "str"      # a NUL-terminated string in s[] (paths encoded as the file system's names are)
BYTES = "bytes"  # a binary buffer in s[] (a packed struct, a BPF program)
GIDS = "gids"    # an array of gid_t in s[]
ARGV = "argv"    # a NULL-terminated string vector in argv
ENVP = "envp"    # a NULL-terminated string vector in envp

NUMBERS, STRINGS = 5, 4  # the lengths of n[] and s[] in struct pyoci_step

# Opcodes are the positions here, from 1 (0 is no step).  A step runs in the
# child in plan order; what each does is in shim.c's run_step.
OPS = {
    "UNSHARE": {"flags": INT},  # CLONE_NEW* (the cgroup namespace, once in its cgroups)
    "JOIN_KEYRING": {"name": STR},  # a new session keyring (unless --no-new-keyring)
    "ROOT_PROPAGATION": {"flags": INT},  # MS_* applied to "/"
    "BIND_ROOTFS": {"rootfs": STR, "bind": INT},  # bind: onto itself first; then open it
    "MOUNT": {"source": STR, "dest": STR, "fstype": STR, "data": STR,
              "flags": INT, "is_file": INT, "copy_up": INT},  # copy_up: tmpcopyup
    # An idmapped bind: the parent makes the tree from source and the maps
    # (pyoci_idmapped_tree), the child attaches it at dest and closes it.
    "ATTACH_MOUNT": {"tree": FD, "source": STR, "dest": STR, "uid_map": STR, "gid_map": STR,
                     "is_file": INT, "recursive": INT, "idmap_all": INT},
    "REMOUNT": {"dest": STR, "flags": INT},  # MS_REMOUNT|MS_BIND added
    "PROPAGATE": {"dest": STR, "flags": INT},
    "SETATTR": {"dest": STR, "attr_set": INT, "attr_clr": INT, "propagation": INT},  # mount_setattr, recursive
    # bind: the host's node at host is bound onto dest instead (a user namespace cannot mknod)
    "MKNOD": {"host": STR, "dest": STR, "mode": INT, "rdev": INT, "uid": INT, "gid": INT, "bind": INT},
    "SYMLINK": {"target": STR, "link": STR},
    "MAKE_PARENT_PRIVATE": {"path": STR},  # so that pivot_root works
    "SYNC": {"phase": INT},  # tell the parent, wait; its reply may carry the state JSON
    "HOOK": {"path": STR, "timeout": INT, "args": ARGV, "env": ENVP},  # timeout in seconds, 0: none
    "PIVOT_ROOT": {"rootfs": STR},
    "CHROOT": {"rootfs": STR, "move": INT},  # move: onto "/" first (--no-pivot)
    "WRITE_FILE": {"path": STR, "content": STR},  # a procfs file (sysctl, AppArmor attr)
    "REOPEN_DEV_NULL": {},  # stdio that is a /dev/null becomes the new root's
    "MASK_PATH": {"path": STR},
    "READONLY_PATH": {"path": STR},
    "REMOUNT_ROOT_RO": {},
    "SETHOSTNAME": {"name": STR},
    "SETDOMAINNAME": {"name": STR},
    "LOOPBACK_UP": {},
    "SETRLIMIT": {"resource": INT, "soft": INT, "hard": INT},
    "SCHED_SETATTR": {"attr": BYTES},  # struct sched_attr (its first field is its size)
    "IOPRIO": {"value": INT},  # class << 13 | level
    "PERSONALITY": {"persona": INT},
    "MEMPOLICY": {"mode": INT, "maxnode": INT, "nodes": BYTES},  # mode | flags; nodes: a mask or NULL
    "CONSOLE": {"rows": INT, "cols": INT},  # a pty: its master to the parent, its slave as stdio
    "CHDIR": {"path": STR},
    "UMASK": {"mask": INT},
    "KEEP_CAPS": {"bounding": INT, "last_cap": INT},  # drop the rest of the bounding set; keep caps over setuid
    "SETGROUPS": {"count": INT, "gids": GIDS},
    "SETID": {"uid": INT, "gid": INT},
    "CAPS": {"effective": INT, "permitted": INT, "inheritable": INT, "ambient": INT},
    "NO_NEW_PRIVS": {},
    "RESOLVE_EXEC": {"program": STR, "path": STR},  # now, so that a bad args[0] fails create
    "WAIT_START": {},  # tell the parent it is ready, block until `start`
    "SECCOMP": {"length": INT, "flags": INT, "program": BYTES},  # length in instructions; SECCOMP_FILTER_FLAG_*
    "CLOSE_ON_EXEC": {},  # every fd past stdio and keep_fds closes at execve
    "EXEC": {"args": ARGV, "env": ENVP},  # execve the program RESOLVE_EXEC found
}

CODES = {name: code for code, name in enumerate(OPS, 1)}
_IN_N = (INT, FD)
_IN_S = (STR, BYTES, GIDS)


def _slots(fields):
    """{field: (member, index)}: n[] and s[] filled in declaration order."""
    slots, counts = {}, {"n": 0, "s": 0}
    for name, kind in fields.items():
        if kind in (ARGV, ENVP):
            slots[name] = (kind, None)
            continue
        member = "n" if kind in _IN_N else "s"
        slots[name] = (member, counts[member])
        counts[member] += 1
    if counts["n"] > NUMBERS or counts["s"] > STRINGS:
        raise ValueError(f"more fields than struct pyoci_step holds: {fields}")
    return slots


SLOTS = {name: _slots(fields) for name, fields in OPS.items()}


def slot(op, field):
    """Where field of op travels: ("n", i), ("s", i), ("argv", None) or ("envp", None)."""
    return SLOTS[op][field]


def c_accessor(op, field):
    """The C expression that reads field of the step st, typed by its kind."""
    member, index = slot(op, field)
    kind = OPS[op][field]
    if index is None:
        return f"((st)->{member})"
    cast = {FD: "(int)", BYTES: "(const void *)", GIDS: "(const gid_t *)(const void *)"}.get(kind, "")
    return f"({cast}(st)->{member}[{index}])"


def c_enum():
    """enum pyoci_op, in what both the C compiler and cffi's cdef read."""
    return "enum pyoci_op {\n" + ",\n".join(f"    PYOCI_OP_{name} = {code}" for name, code in CODES.items()) + "\n};\n"


def c_header():
    """ops.h: enum pyoci_op and OP_<OP>_<FIELD>(st) for every field."""
    lines = ["/* Generated from pyoci/plan/ops.py by pyoci/_native/build.py: edit that table. */",
             "#ifndef PYOCI_OPS_H", "#define PYOCI_OPS_H", "", c_enum()]
    for name, fields in OPS.items():
        lines += [f"#define OP_{name}_{field.upper()}(st) {c_accessor(name, field)}" for field in fields]
    lines += ["", "#endif"]
    return "\n".join(lines) + "\n"
