"""The only module that touches pyoci's libseccomp extension
(pyoci._native._seccomp).

Where it sits: during create's planning, pyoci.security.seccomp turns
linux.seccomp into rules and this module has libseccomp compile them into
the BPF program the shim's child loads.  A container without linux.seccomp
never imports it, and so never loads libseccomp; `pyoci --version` asks
it for libseccomp's version.
"""
import posix  # not os: see pyoci.core.paths

from pyoci._native._seccomp import ffi, lib


def seccomp_filter(default_action, architectures, rules):
    """BPF bytes for a filter: rules are (action, syscall nr, [(index, op, value, value_two)])."""
    ctx = lib.pyoci_seccomp_new(default_action)
    if ctx == ffi.NULL:
        raise OSError(22, "seccomp_init: invalid default action")
    try:
        for arch in architectures:
            err = lib.pyoci_seccomp_arch(ctx, arch.encode())
            if err < 0:
                raise OSError(-err, f"architecture {arch}")
        for action, number, args in rules:
            n = len(args)
            err = lib.pyoci_seccomp_rule(
                ctx, action, number, n,
                ffi.new("unsigned int[]", [a[0] for a in args] or [0]),
                ffi.new("int[]", [a[1] for a in args] or [0]),
                ffi.new("unsigned long long[]", [a[2] for a in args] or [0]),
                ffi.new("unsigned long long[]", [a[3] for a in args] or [0]),
            )
            if err < 0:
                raise OSError(-err, f"rule for syscall {number}")
        fd = posix.memfd_create("seccomp-bpf", posix.MFD_CLOEXEC)
        try:
            err = lib.pyoci_seccomp_export(ctx, fd)
            if err < 0:
                raise OSError(-err, "seccomp_export_bpf")
            posix.lseek(fd, 0, 0)  # SEEK_SET
            chunks = []
            while True:
                chunk = posix.read(fd, 65536)
                if not chunk:
                    break
                chunks.append(chunk)
            return b"".join(chunks)
        finally:
            posix.close(fd)
    finally:
        lib.pyoci_seccomp_free(ctx)


def syscall_number(name):
    """The native architecture's number for a syscall name, or None."""
    number = lib.pyoci_seccomp_syscall(name.encode())
    return None if number == -1 else number


def arch_known(name):
    """Whether libseccomp knows the architecture name (its own spelling)."""
    return bool(lib.pyoci_seccomp_arch_known(name.encode()))


def action_available(action):
    """Whether the running kernel takes the filter action."""
    return bool(lib.pyoci_seccomp_action_available(action))


def flags_supported(flags):
    """Whether the running kernel takes the SECCOMP_FILTER_FLAG_* flags together."""
    return bool(lib.pyoci_seccomp_flags_supported(flags))


def version():
    """The loaded libseccomp's version, "major.minor.micro"."""
    loaded = ffi.new("unsigned int[3]")
    lib.pyoci_seccomp_version(loaded)
    return "%d.%d.%d" % tuple(loaded)
