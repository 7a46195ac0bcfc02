"""cffi build script for pyoci's C shim (out-of-line API mode).

Run at install time (setup.py's cffi_modules); produces pyoci._native._shim
and pyoci._native._seccomp.  The declarations come from the headers
themselves (shim.h, seccomp_shim.h) so C and Python never disagree, and
ops.h, the plan's operations as shim.c reads them, is generated here first
from their one declaration, pyoci/plan/ops.py.
"""
import os
import runpy

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))


def _read(name):
    with open(os.path.join(HERE, name)) as f:
        return f.read()


COMPILE_ARGS = ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]


def _sources(*names):
    # setuptools wants sources relative to the project root it builds from.
    return [os.path.relpath(os.path.join(HERE, name)) for name in names]


def _write(name, text):
    """Write name unless it already holds text: its time tells the build whether to recompile."""
    path = os.path.join(HERE, name)
    if not os.path.exists(path) or _read(name) != text:
        with open(path, "w") as f:
            f.write(text)


# The op table, loaded on its own: pyoci need not be importable yet.
OPS = runpy.run_path(os.path.join(HERE, os.pardir, "plan", "ops.py"))
_write("ops.h", OPS["c_header"]())

ffibuilder = FFI()
# The header holds only declarations cffi's parser understands.
ffibuilder.cdef(_read("shim.h"))
# The opcodes as the compiled shim has them, for a test to hold to the table.
ffibuilder.cdef(OPS["c_enum"]())
ffibuilder.set_source(
    "pyoci._native._shim",
    '#include "shim.h"\n#include "ops.h"',
    sources=_sources("shim.c", "devices.c", "sockets.c"),
    # ops.h changes alone when a field moves: the shim must be rebuilt then too.
    depends=_sources("ops.h"),
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
