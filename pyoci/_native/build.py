"""cffi build script for pyoci's C shim (out-of-line API mode).

Run at install time (setup.py's cffi_modules); produces pyoci._native._shim
and pyoci._native._seccomp.  The declarations come from the headers
themselves (shim.h, seccomp_shim.h) so C and Python never disagree.
"""
import os

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))


def _read(name):
    with open(os.path.join(HERE, name)) as f:
        return f.read()


COMPILE_ARGS = ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]


def _sources(*names):
    # setuptools wants sources relative to the project root it builds from.
    return [os.path.relpath(os.path.join(HERE, name)) for name in names]


ffibuilder = FFI()
# The header holds only declarations cffi's parser understands.
ffibuilder.cdef(_read("shim.h"))
ffibuilder.set_source(
    "pyoci._native._shim",
    '#include "shim.h"',
    sources=_sources("shim.c", "devices.c", "sockets.c"),
    include_dirs=[HERE],
    extra_compile_args=COMPILE_ARGS,
)

# libseccomp's part, a module of its own: create loads it (and libseccomp)
# only for a config with linux.seccomp.
seccomp_ffibuilder = FFI()
seccomp_ffibuilder.cdef(_read("seccomp_shim.h"))
seccomp_ffibuilder.set_source(
    "pyoci._native._seccomp",
    '#include "seccomp_shim.h"',
    sources=_sources("seccomp.c"),
    libraries=["seccomp"],
    include_dirs=[HERE],
    extra_compile_args=COMPILE_ARGS,
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
    seccomp_ffibuilder.compile(verbose=True)
