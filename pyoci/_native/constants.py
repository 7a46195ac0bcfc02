"""Build tool: the kernel constants the plan uses, read from the C headers
of the machine pyoci is built on and written as pyoci/_constants.py
(setup.py's BuildPackage runs it).

So that create's planning (pyoci.plan) has the kernel's numbers without
copying them by hand and without loading the compiled shim: a plan can be
made, and tested, where the extension is not built.  A name the headers
lack fails the build, with the compiler's error.
"""
import os
import subprocess
import tempfile

HEADERS = ("sys/resource.h", "linux/mount.h", "linux/sched.h", "linux/nsfs.h")

MOUNT_FLAGS = ("RDONLY", "NOSUID", "NODEV", "NOEXEC", "SYNCHRONOUS", "REMOUNT", "MANDLOCK", "DIRSYNC",
               "NOSYMFOLLOW", "NOATIME", "NODIRATIME", "BIND", "REC", "SILENT", "UNBINDABLE", "PRIVATE", "SLAVE",
               "SHARED", "RELATIME", "I_VERSION", "STRICTATIME", "LAZYTIME")
# mount_setattr(2)'s MOUNT_ATTR_*, for the recursive mount options
MOUNT_ATTRS = ("RDONLY", "NOSUID", "NODEV", "NOEXEC", "_ATIME", "RELATIME", "NOATIME", "STRICTATIME", "NODIRATIME",
               "NOSYMFOLLOW")
# linux.namespaces type -> CLONE_NEW* (the types' names are the spec's)
NAMESPACES = {"mount": "NS", "cgroup": "CGROUP", "uts": "UTS", "ipc": "IPC", "user": "USER", "pid": "PID",
              "network": "NET", "time": "TIME"}
# The rlimits' numbers differ between architectures.
RLIMITS = ("CPU", "FSIZE", "DATA", "STACK", "CORE", "RSS", "NPROC", "NOFILE", "MEMLOCK", "AS", "LOCKS",
           "SIGPENDING", "MSGQUEUE", "NICE", "RTPRIO", "RTTIME")


def _program():
    """C that prints each constant as a line of Python."""
    lines = [f"#include <{header}>" for header in HEADERS] + ["#include <stdio.h>", "int main(void)", "{"]

    def value(python, c_name, end=""):
        lines.append(f'    printf("{python}%#llx{end}\\n", (unsigned long long)({c_name}));')

    for name in MOUNT_FLAGS:
        value(f"MS_{name} = ", f"MS_{name}")
    for name in MOUNT_ATTRS:
        value(f"ATTR_{name} = ", f"MOUNT_ATTR_{name}")
    value("NS_GET_NSTYPE = ", "NS_GET_NSTYPE")  # the ioctl that tells a namespace fd's type
    lines.append('    printf("NAMESPACES = {\\n");')
    for kind, name in NAMESPACES.items():
        value(f'    \\"{kind}\\": ', f"CLONE_NEW{name}", ",")
    lines.append('    printf("}\\nRLIMITS = {\\n");')
    for name in RLIMITS:
        value(f'    \\"RLIMIT_{name}\\": ', f"RLIMIT_{name}", ",")
    lines += ['    printf("}\\n");', "    return 0;", "}"]
    return "\n".join(lines) + "\n"


def generate():
    """pyoci/_constants.py's text."""
    with tempfile.TemporaryDirectory() as tmp:
        source, binary = os.path.join(tmp, "constants.c"), os.path.join(tmp, "constants")
        with open(source, "w") as f:
            f.write(_program())
        subprocess.check_call([os.environ.get("CC", "cc"), "-o", binary, source])
        values = subprocess.check_output([binary], text=True)
    return ('"""Kernel constants from the C headers pyoci was built with, written at build time by\n'
            'pyoci/_native/constants.py: MS_* flags, ATTR_* (MOUNT_ATTR_*), NS_GET_NSTYPE, NAMESPACES (linux.namespaces type -> CLONE_NEW*),\n'
            'RLIMITS (name -> resource number)."""\n' + values)
