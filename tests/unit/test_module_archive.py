"""pyoci.module_archive: a package's modules written into one file at build
time and imported from it, each test in a fresh interpreter."""
import os
import subprocess
import sys

import pytest

import pyoci
from pyoci import module_archive

PYOCI_SOURCE = os.path.dirname(os.path.dirname(os.path.abspath(module_archive.__file__)))


def make_package(root):
    """pkg/{__init__, plain, sub/{__init__, deep}, __main__}.py"""
    pkg = root / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text(
        "import sys\n"
        "from pyoci import module_archive\n"
        "module_archive.install(__path__[0], sys.meta_path)\n")
    (pkg / "plain.py").write_text("VALUE = 'plain'\n\ndef fail():\n    raise ValueError('from plain')\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "deep.py").write_text("from pkg.plain import VALUE\nDEEP = VALUE + ' and deep'\n")
    (pkg / "__main__.py").write_text("print('main of pkg')\n")
    return pkg


def python(root, code, *args):
    env = dict(os.environ, PYTHONPATH=f"{root}:{PYOCI_SOURCE}")
    result = subprocess.run([sys.executable, *args, "-c", code] if code else [sys.executable, *args],
                            capture_output=True, text=True, env=env, cwd=root)
    return result


LOADERS = "import pkg.plain, pkg.sub.deep; print(type(pkg.plain.__loader__).__name__, type(pkg.sub.deep.__loader__).__name__)"


def test_modules_come_from_the_archive(tmp_path):
    pkg = make_package(tmp_path)
    module_archive.write(str(pkg), "pkg")
    result = python(tmp_path, LOADERS + "; print(pkg.sub.deep.DEEP, pkg.plain.__file__ == %r)" % str(pkg / "plain.py"))
    assert result.stdout.split("\n")[:2] == ["ArchiveFinder ArchiveFinder", "plain and deep True"], result.stderr


def test_the_archive_is_what_was_built_not_a_later_edit(tmp_path):
    pkg = make_package(tmp_path)
    module_archive.write(str(pkg), "pkg")
    (pkg / "plain.py").write_text("VALUE = 'edited'\n")
    assert python(tmp_path, "import pkg.plain; print(pkg.plain.VALUE)").stdout == "plain\n"


def test_tracebacks_show_the_installed_source(tmp_path):
    pkg = make_package(tmp_path)
    module_archive.write(str(pkg), "pkg")
    result = python(tmp_path, "import pkg.plain; pkg.plain.fail()")
    assert f'File "{pkg / "plain.py"}", line 4, in fail' in result.stderr
    assert "raise ValueError('from plain')" in result.stderr


def test_python_dash_m_runs_the_packages_main(tmp_path):
    pkg = make_package(tmp_path)
    module_archive.write(str(pkg), "pkg")
    assert python(tmp_path, None, "-m", "pkg").stdout == "main of pkg\n"


def test_without_an_archive_the_path_finder_imports(tmp_path):
    make_package(tmp_path)
    assert python(tmp_path, LOADERS).stdout == "SourceFileLoader SourceFileLoader\n"


def test_an_archive_of_another_bytecode_version_is_ignored(tmp_path):
    pkg = make_package(tmp_path)
    module_archive.write(str(pkg), "pkg")
    archive = pkg / module_archive.ARCHIVE
    data = bytearray(archive.read_bytes())
    magic = data.index(module_archive.MAGIC_NUMBER)
    data[magic] ^= 0xFF
    archive.write_bytes(bytes(data))
    assert python(tmp_path, LOADERS).stdout == "SourceFileLoader SourceFileLoader\n"


def test_an_installed_pyoci_imports_from_its_archive():
    package_dir = os.path.dirname(os.path.abspath(pyoci.__file__))
    if not os.path.exists(os.path.join(package_dir, module_archive.ARCHIVE)):
        pytest.skip("pyoci is imported from a source tree, which has no archive")
    from pyoci import cli
    assert type(cli.__loader__) is module_archive.ArchiveFinder
