"""pyoci's own modules, compiled into one file at install and imported from it.

Every command is a fresh interpreter, and create imports some 35 of pyoci's
modules.  Through the standard path finder each one costs a search of its
package directory, a stat of the source, an open and a read of the cached
bytecode, and the importlib code around them, itself Python (what that adds
up to: bench/README.md).  At install, setup.py calls write(), which puts the
code of every module into one file next to this one; pyoci/__init__ calls
install(), which puts an ArchiveFinder ahead of the path finder, and a module
is then one pread and an unmarshal.

The archive is a build product, like the shim: it holds the code installed
with it, so an edit of an installed .py takes effect at the next install (as
with the stdlib modules CPython freezes into itself).  An archive written for
another bytecode version is ignored.  Extension modules are not in it; the
path finder goes on finding those (the shim).

Layout: the length of the header (4 bytes, little-endian), the header
marshal((bytecode magic, {module name: (path relative to the package
directory, offset after the header, size, is a package)})), the code objects
marshalled one after the other.
"""
import marshal
import posix  # not os: see pyoci.core.paths
from _frozen_importlib import ModuleSpec
from _frozen_importlib_external import MAGIC_NUMBER
from _imp import _fix_co_filename

ARCHIVE = "modules.marshal"
LENGTH_BYTES = 4


def write(package_dir, package="pyoci"):
    """Build time: every .py under package_dir, compiled, into its ARCHIVE."""
    import os

    index, blobs, offset = {}, [], 0
    for directory, subdirs, files in os.walk(package_dir):
        subdirs.sort()
        for file in sorted(files):
            if not file.endswith(".py"):
                continue
            path = os.path.join(directory, file)
            relative = os.path.relpath(path, package_dir)
            parts = [package] + relative[:-len(".py")].split(os.sep)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            with open(path, "rb") as f:
                blob = marshal.dumps(compile(f.read(), path, "exec", dont_inherit=True))
            index[".".join(parts)] = (relative, offset, len(blob), is_package)
            blobs.append(blob)
            offset += len(blob)
    header = marshal.dumps((MAGIC_NUMBER, index))
    with open(os.path.join(package_dir, ARCHIVE), "wb") as f:
        f.write(len(header).to_bytes(LENGTH_BYTES, "little") + header + b"".join(blobs))


def read_index(archive):
    """{module name: entry} and where the code starts; None when the archive
    is missing or was written for another bytecode version."""
    try:
        fd = posix.open(archive, posix.O_RDONLY | posix.O_CLOEXEC)
    except OSError:
        return None
    try:
        length = int.from_bytes(posix.pread(fd, LENGTH_BYTES, 0), "little")
        magic, index = marshal.loads(posix.pread(fd, length, LENGTH_BYTES))
    finally:
        posix.close(fd)
    return (index, LENGTH_BYTES + length) if magic == MAGIC_NUMBER else None


class ArchiveFinder:
    """Finds and loads the modules of one package from its archive."""

    def __init__(self, package_dir, archive, index, code_start):
        self.package_dir = package_dir
        self.archive = archive
        self.index = index
        self.code_start = code_start

    def find_spec(self, name, path=None, target=None):
        entry = self.index.get(name)
        if entry is None:
            return None
        relative, _offset, _size, is_package = entry
        origin = self.package_dir + "/" + relative
        spec = ModuleSpec(name, self, origin=origin, is_package=is_package)
        spec.has_location = True  # __file__ is the installed source: tracebacks show its lines
        # __cached__: the compiled code is in the archive (and importlib
        # would otherwise derive a __pycache__ path for every module).
        spec.cached = self.archive
        if is_package:
            spec.submodule_search_locations = [origin.rpartition("/")[0]]
        return spec

    def create_module(self, spec):
        return None  # the default module object

    def exec_module(self, module):
        exec(self.get_code(module.__name__), module.__dict__)

    def get_code(self, name):
        """The module's code object (runpy asks for it: python -m pyoci)."""
        relative, offset, size, _is_package = self.index[name]
        # Opened per module and closed at once: no descriptor may outlive
        # the import into a container's init.
        fd = posix.open(self.archive, posix.O_RDONLY | posix.O_CLOEXEC)
        try:
            code = marshal.loads(posix.pread(fd, size, self.code_start + offset))
        finally:
            posix.close(fd)
        _fix_co_filename(code, self.package_dir + "/" + relative)
        return code

    def is_package(self, name):
        return self.index[name][3]


def install(package_dir, meta_path):
    """Put the archive's finder first in meta_path, if there is an archive."""
    archive = package_dir + "/" + ARCHIVE
    found = read_index(archive)
    if found is not None:
        meta_path.insert(0, ArchiveFinder(package_dir, archive, *found))
