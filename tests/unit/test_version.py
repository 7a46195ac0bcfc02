"""`pyoci --version` of the installed command: runc's lines, with the
commit the build recorded, the runtime-spec version, the Python that runs
it and the libseccomp it loads."""
import os
import platform
import re
import subprocess
import sys

import pytest

import pyoci

LAUNCHER = os.path.join(os.path.dirname(sys.executable), "pyoci")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

pytestmark = pytest.mark.skipif(not os.access(LAUNCHER, os.X_OK), reason="pyoci is not installed next to this python")


def version_lines():
    proc = subprocess.run([LAUNCHER, "--version"], capture_output=True, text=True, check=True)
    lines = proc.stdout.splitlines()
    assert lines[0] == f"pyoci version {pyoci.__version__}"
    return dict(line.split(": ", 1) for line in lines[1:])


def source_head():
    """HEAD of the tree these tests are in, or None outside a git checkout."""
    try:
        return subprocess.run(["git", "-C", REPO, "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def test_version_lines_in_runcs_order():
    assert list(version_lines()) == ["commit", "spec", "python", "libseccomp"]


def test_commit_is_the_one_the_installed_pyoci_was_built_from():
    commit = version_lines()["commit"]
    head = source_head()
    if head is None:
        assert commit == "unknown"
    else:
        assert commit in (head, head + "-dirty"), "installed from another commit: reinstall"


def test_spec_python_and_libseccomp():
    lines = version_lines()
    assert lines["spec"] == pyoci.SPEC_VERSION
    assert lines["python"] == platform.python_version()
    assert re.fullmatch(r"\d+\.\d+\.\d+", lines["libseccomp"])


def test_version_as_a_command_and_short_flag_print_the_same():
    outputs = {subprocess.run([LAUNCHER, *argv], capture_output=True, text=True, check=True).stdout
               for argv in (["--version"], ["-v"], ["version"])}
    assert len(outputs) == 1
