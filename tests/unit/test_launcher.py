"""The installed `pyoci` command (pyoci/_native/launcher.c): it runs the
environment's interpreter isolated from the caller's Python settings, also
through a symlink, and passes arguments and the exit status through."""
import os
import subprocess
import sys

import pytest

LAUNCHER = os.path.join(os.path.dirname(sys.executable), "pyoci")

pytestmark = pytest.mark.skipif(not os.access(LAUNCHER, os.X_OK), reason="pyoci is not installed next to this python")


def run(argv, **kwargs):
    return subprocess.run(argv, capture_output=True, text=True, **kwargs)


def test_it_is_a_compiled_launcher():
    with open(LAUNCHER, "rb") as f:
        assert f.read(4) == b"\x7fELF"


def test_version():
    assert run([LAUNCHER, "--version"]).stdout.startswith("pyoci version ")


def test_through_a_symlink(tmp_path):
    link = tmp_path / "pyoci"
    link.symlink_to(LAUNCHER)
    assert run([str(link), "--version"]).stdout.startswith("pyoci version ")


def test_the_callers_python_settings_do_not_reach_it(tmp_path):
    decoy = tmp_path / "pyoci"
    decoy.mkdir()
    (decoy / "__init__.py").write_text("raise SystemExit('the decoy ran')\n")
    env = dict(os.environ, PYTHONPATH=str(tmp_path), PYTHONSTARTUP=str(decoy / "__init__.py"))
    result = run([LAUNCHER, "--version"], env=env, cwd=tmp_path)
    assert result.stdout.startswith("pyoci version "), result.stderr


def test_arguments_and_exit_status_pass_through(tmp_path):
    result = run([LAUNCHER, "--root", str(tmp_path / "a root with spaces"), "state", "no such id"])
    assert result.returncode == 1
    assert "no such id" in result.stderr
