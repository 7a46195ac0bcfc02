"""Shared fixtures: the runtime under test, bundles, unique ids, and a
teardown that removes every container a test made and checks nothing is
left behind (state dir, cgroup, mount, process)."""
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import uuid

import pytest

from bundle import default_config, make_rootfs, write_bundle
from captured import run_captured
from leftovers import assert_nothing_left


def pytest_configure(config):
    config.addinivalue_line("markers", "root: needs root and real kernel isolation")


def pytest_collection_modifyitems(config, items):
    if os.geteuid() == 0:
        return
    skip = pytest.mark.skip(reason="integration tests need root")
    for item in items:
        if "integration" in item.nodeid:
            item.add_marker(skip)


def runtime_command():
    """PYOCI_RUNTIME names the binary (or command) under test; default: the
    pyoci installed beside this Python (the installed copy, not the work tree)."""
    cmd = os.environ.get("PYOCI_RUNTIME")
    if cmd:
        return shlex.split(cmd)
    script = os.path.join(os.path.dirname(sys.executable), "pyoci")
    return [script] if os.path.exists(script) else [sys.executable, "-m", "pyoci"]


@pytest.fixture(scope="session")
def rootfs():
    # Not under pytest's 0700 tmp: a user namespace's root (an unprivileged
    # host uid) must be able to reach it.
    base = tempfile.mkdtemp(prefix="pyoci-test-rootfs-")
    os.chmod(base, 0o755)
    yield make_rootfs(os.path.join(base, "rootfs"))
    shutil.rmtree(base)


@pytest.fixture(scope="session")
def criu():
    """A CRIU that works on this kernel: $PYOCI_CRIU or criu on PATH; the
    test skips with `criu check`'s reason otherwise."""
    path = os.environ.get("PYOCI_CRIU") or shutil.which("criu")
    if not path:
        pytest.skip("no CRIU: set PYOCI_CRIU or put criu on PATH")
    proc = subprocess.run([path, "check"], stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if proc.returncode != 0:
        said = (proc.stdout + proc.stderr).strip().splitlines()
        pytest.skip(f"criu check fails here: {said[-1] if said else proc.returncode}")
    return path


class Runtime:
    """Runs the runtime CLI with a private --root and cleans up after the test."""

    def __init__(self, root, tmp):
        self.cmd = runtime_command()
        self.root = root
        self.tmp = tmp
        self.ids = []

    def new_id(self, prefix="t"):
        cid = f"{prefix}-{uuid.uuid4().hex[:12]}"
        self.ids.append(cid)
        return cid

    def __call__(self, *args, input=None, timeout=30, check=False, env=None, global_args=(), **popen):
        """popen: more of subprocess.run's arguments (stdin, start_new_session...)."""
        proc = run_captured(self.cmd + ["--root", self.root, *global_args, *args],
                            input=input, text=True, timeout=timeout, env=env, **popen)
        if check and proc.returncode != 0:
            raise AssertionError(f"{args}: exit {proc.returncode}: {proc.stderr}")
        return proc

    def state(self, cid):
        proc = self("state", cid, check=True)
        return json.loads(proc.stdout)

    def bundle(self, args, name=None, rootfs=None, mutate=None, terminal=False):
        path = os.path.join(self.tmp, name or uuid.uuid4().hex[:8])
        config = default_config(args, rootfs, terminal)
        config["root"]["readonly"] = True
        if mutate:
            mutate(config)
        return write_bundle(path, config)

    def cleanup(self):
        for cid in self.ids:
            self("delete", "--force", cid)


@pytest.fixture
def runtime(tmp_path, rootfs):
    rt = Runtime(str(tmp_path / "state"), str(tmp_path))
    rt.rootfs = rootfs
    yield rt
    rt.cleanup()
    for cid in rt.ids:
        assert_nothing_left(rt.root, cid, str(tmp_path), rootfs)
