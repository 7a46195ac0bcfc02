"""The README's two commands' scripts (scripts/setup.sh, scripts/demo.sh),
each run for real from a copy of the tree in which only what would be
slow or would change the host stands in: the virtualenv's pip, and (for
the demo) the runtime, so that its exit status is chosen by the test."""
import fcntl
import os
import shutil
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TREE = os.path.dirname(os.path.dirname(HERE))
DPKG_FRONTEND_LOCK = "/var/lib/dpkg/lock-frontend"


def stub(path, body):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body + "\n")
    os.chmod(path, 0o755)


def copy_of_the_scripts(tmp_path, *names):
    for name in names:
        os.makedirs(tmp_path / os.path.dirname(name), exist_ok=True)
        shutil.copy(os.path.join(TREE, name), tmp_path / name)
    stub(str(tmp_path / ".venv" / "bin" / "python"), f'exec {sys.executable} "$@"')
    stub(str(tmp_path / ".venv" / "bin" / "pip"), "exit 0")


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("apt-get"), reason="needs root and apt")
def test_setup_waits_for_another_apt_instead_of_failing(tmp_path):
    """A fresh machine's unattended-upgrades holds dpkg's lock: setup.sh
    must wait for it.  The test holds the lock for 3 s while setup.sh
    installs a package it is told is missing (one that is installed, so
    apt changes nothing)."""
    copy_of_the_scripts(tmp_path, "scripts/setup.sh")
    # dpkg-query answers "not installed" for procps only; everything else is the host's.
    real = shutil.which("dpkg-query")
    stub(str(tmp_path / "bin" / "dpkg-query"),
         f'for a in "$@"; do [ "$a" = procps ] && exit 1; done; exec {real} "$@"')
    env = dict(os.environ, PATH=f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    fd = os.open(DPKG_FRONTEND_LOCK, os.O_RDWR | os.O_CREAT, 0o640)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX)
        setup = subprocess.Popen(["bash", str(tmp_path / "scripts" / "setup.sh")], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(3)
        waited = setup.poll() is None
    finally:
        os.close(fd)
    out, _ = setup.communicate(timeout=600)
    assert waited, out
    assert setup.returncode == 0, out
    assert "installing: procps" in out


@pytest.mark.parametrize("status", [0, 3])
def test_demo_reports_and_exits_with_the_containers_status(tmp_path, status):
    copy_of_the_scripts(tmp_path, "scripts/demo.sh", "tests/bundle.py")
    stub(str(tmp_path / "scripts" / "setup.sh"), "exit 0")
    stub(str(tmp_path / ".venv" / "bin" / "pyoci"), f"exit {status}")
    demo = subprocess.run(["bash", str(tmp_path / "scripts" / "demo.sh")], capture_output=True, text=True,
                          timeout=60)
    assert f"== exit status {status} ==" in demo.stdout, demo.stdout + demo.stderr
    assert demo.returncode == status
