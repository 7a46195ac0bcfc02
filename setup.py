"""Build glue setup.cfg cannot express: the cffi shim, the schema copy, the
validator generated from it, the commit the build is of, the compiled
`pyoci` launcher and the man pages."""
import os
import shutil
import subprocess
import sys

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.install import install
# setuptools has no build_scripts or install_data of its own; once it is
# imported, this is the distutils it ships.
from distutils.command.build_scripts import build_scripts  # noqa: E402
from distutils.command.install_data import install_data  # noqa: E402
from distutils.errors import DistutilsError  # noqa: E402

LAUNCHER = "pyoci/_native/launcher.c"
HERE = os.path.dirname(os.path.abspath(__file__))
# Where man(1) looks for the pages of a prefix whose bin is on PATH.
MAN_DIR = "share/man/man8"


def source_commit():
    """The commit the source tree is at, with -dirty when tracked files
    differ from it, as runc's --version shows it; "unknown" outside a git
    checkout or without git.  Only a checkout of this tree counts: a source
    unpacked inside some other repository is not that repository's commit."""
    if not os.path.exists(os.path.join(HERE, ".git")):  # a directory, or a worktree's file
        return "unknown"
    try:
        commit = subprocess.check_output(["git", "-C", HERE, "rev-parse", "HEAD"], text=True).strip()
        # --no-optional-locks: a build must not take the index lock from a git command running beside it.
        changed = subprocess.check_output(["git", "-C", HERE, "--no-optional-locks", "status", "--porcelain",
                                           "--untracked-files=no"], text=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("-dirty" if changed else "")


def man_build_dir(command):
    return os.path.join(command.get_finalized_command("build").build_base, "man")


class BuildPackage(build_py):
    """Ship spec/*.json (the schema pyoci validates against) as pyoci/schema,
    config-schema.json's validator as pyoci/spec/config_schema.py, the
    kernel constants as pyoci/_constants.py, the commit as
    pyoci/_build_info.py, and the modules compiled into pyoci's
    module archive; write the man pages for InstallManPages."""

    def run(self):
        super().run()
        package = os.path.join(self.build_lib, "pyoci")
        target = os.path.join(package, "schema")
        os.makedirs(target, exist_ok=True)
        for name in os.listdir("spec"):
            if name.endswith(".json"):
                shutil.copy(os.path.join("spec", name), target)
        sys.path.insert(0, HERE)  # the build's own tools, from the source tree
        from pyoci import module_archive
        from pyoci._native import constants
        from pyoci.cli import manpages
        from pyoci.spec.load import read_schema
        from pyoci.spec.validator import SchemaError, generate

        try:
            source = generate(read_schema("config-schema.json"))
        except SchemaError as e:  # as setuptools reports a failed build: the message, without a traceback
            raise DistutilsError(f"spec/config-schema.json: {e}") from None
        with open(os.path.join(package, "spec", "config_schema.py"), "w") as f:
            f.write('"""config-schema.json\'s check, generated at build time by pyoci.spec.validator."""\n' + source)
        with open(os.path.join(package, "_constants.py"), "w") as f:
            f.write(constants.generate())
        with open(os.path.join(package, "_build_info.py"), "w") as f:
            f.write('"""What `pyoci --version` says of the build, written by setup.py."""\n'
                    f"COMMIT = {source_commit()!r}\n")
        module_archive.write(package)
        # Afresh: the page of a command since removed must not be installed.
        shutil.rmtree(man_build_dir(self), ignore_errors=True)
        manpages.write(man_build_dir(self))


class BuildLauncher(build_scripts):
    """The `pyoci` command, compiled from LAUNCHER (why: see its comment).

    Static, so that starting it costs an exec and nothing else: no dynamic
    loader, no libc to map, on every engine call."""

    def run(self):
        os.makedirs(self.build_dir, exist_ok=True)
        target = os.path.join(self.build_dir, "pyoci")
        compiler = os.environ.get("CC", "cc")
        subprocess.check_call([compiler, "-O2", "-Wall", "-Wextra", "-static", "-s", "-o", target, LAUNCHER])
        os.chmod(target, 0o755)


class InstallManPages(install_data):
    """The pages BuildPackage wrote, into <prefix>/MAN_DIR (a wheel's data,
    which pip installs under the environment's prefix)."""

    def run(self):
        pages = man_build_dir(self)
        self.data_files = [(MAN_DIR, sorted(os.path.join(pages, name) for name in os.listdir(pages)))]
        super().run()


class Install(install):
    # install runs install_data only for a distribution with data_files;
    # the man pages' names are known once the build has written them.
    sub_commands = install.sub_commands + [("install_man", None)]


setup(
    cffi_modules=["pyoci/_native/build.py:ffibuilder", "pyoci/_native/build.py:seccomp_ffibuilder"],
    # The launcher's source stands in the scripts list so that setuptools
    # runs build_scripts (which compiles it) and installs the result.
    scripts=[LAUNCHER],
    cmdclass={"build_py": BuildPackage, "build_scripts": BuildLauncher, "install": Install,
              "install_man": InstallManPages},
)
