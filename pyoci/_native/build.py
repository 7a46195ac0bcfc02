"""cffi build script for pyoci's C shim (out-of-line API mode).

Run at install time (setup.py's cffi_modules); produces pyoci._native._shim.
The declarations come from shim.h itself so C and Python never disagree.
"""
import os

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))


def _read(name):
    with open(os.path.join(HERE, name)) as f:
        return f.read()


ffibuilder = FFI()
# The header holds only declarations cffi's parser understands.
ffibuilder.cdef(_read("shim.h"))
# The kernel's rlimit numbers, which differ between architectures: the plan
# takes them from the C headers here (the resource module is one more
# shared library to load on every create).
RLIMITS = ("CPU", "FSIZE", "DATA", "STACK", "CORE", "RSS", "NPROC", "NOFILE", "MEMLOCK", "AS", "LOCKS",
           "SIGPENDING", "MSGQUEUE", "NICE", "RTPRIO", "RTTIME")
ffibuilder.cdef("".join(f"#define RLIMIT_{name} ...\n" for name in RLIMITS))
ffibuilder.set_source(
    "pyoci._native._shim",
    '#include <sys/resource.h>\n#include "shim.h"',
    # setuptools wants sources relative to the project root it builds from.
    sources=[os.path.relpath(os.path.join(HERE, name)) for name in ("shim.c", "seccomp.c", "devices.c")],
    libraries=["seccomp"],
    include_dirs=[HERE],
    extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
