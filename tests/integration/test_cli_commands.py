"""Every command as a newcomer first meets it: with --help, without its
container id, and with an id that does not exist; run against pyoci and,
side by side, runc, whose exit status pyoci must match.  Also `kill ID 0`
and the --debug step records."""
import json
import os
import re
import shutil
import subprocess
import uuid

import pytest

from conftest import runtime_command
from engines import wait_for
from pyoci.cli import COMMANDS, GLOBAL_FLAGS

RUNC = shutil.which("runc")
WITHOUT_ID = {"list", "spec", "features"}
# Commands that make a container from a bundle: an unknown id is a new one,
# and what fails is the bundle (here: one without config.json).
FROM_BUNDLE = {"create", "run", "restore"}
# exec's failures of the runtime exit 255, as runc's do.
EXIT = {"exec": 255}


def module_of(command):
    return getattr(__import__(f"pyoci.cli.{COMMANDS[command]}").cli, COMMANDS[command])


def call(cmd, root, *args, cwd=None):
    return subprocess.run(cmd + ["--root", root, *args], capture_output=True, text=True, timeout=30,
                          stdin=subprocess.DEVNULL, cwd=cwd)


@pytest.fixture
def roots(tmp_path):
    """(pyoci's command, runc's or None, a private root for each)."""
    return runtime_command(), [RUNC] if RUNC else None, str(tmp_path / "pyoci"), str(tmp_path / "runc")


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("asked", ["--help", "-h"])
def test_help_names_every_flag_and_exits_0(roots, command, asked):
    pyoci, runc, root, runc_root = roots
    proc = call(pyoci, root, command, asked)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"usage: pyoci {command} "), proc.stdout
    assert module_of(command).__doc__.strip() in proc.stdout  # the whole description, not its first line
    for name in [name for flag in module_of(command).FLAGS for name in flag.names]:
        assert re.search(rf"(^|[ ,]){re.escape(name)}\b", proc.stdout, re.M), (name, proc.stdout)
    assert not os.path.exists(root)
    if runc:
        assert call(runc, runc_root, command, asked).returncode == 0


def test_global_help_names_every_command_and_global_flag(roots):
    pyoci, _, root, _ = roots
    proc = call(pyoci, root, "--help")
    assert proc.returncode == 0
    for name in list(COMMANDS) + [f for f in GLOBAL_FLAGS if f.startswith("--")]:
        assert name in proc.stdout, name


@pytest.mark.parametrize("command", sorted(set(COMMANDS) - WITHOUT_ID))
def test_a_missing_id_names_the_argument_once(roots, command):
    pyoci, runc, root, runc_root = roots
    proc = call(pyoci, root, command)
    assert proc.returncode == 1
    assert proc.stderr == f"pyoci: {command}: missing argument: CONTAINER_ID\n"
    assert not os.path.exists(root)
    if runc:
        theirs = call(runc, runc_root, command)
        assert theirs.returncode == 1 and "argument" in theirs.stderr


@pytest.mark.parametrize("command", sorted(WITHOUT_ID))
def test_an_id_where_none_is_taken_is_refused(roots, command, tmp_path):
    pyoci, runc, root, runc_root = roots
    proc = call(pyoci, root, command, "some-id", cwd=tmp_path)
    assert (proc.returncode, proc.stderr) == (1, f"pyoci: {command}: unexpected argument: some-id\n")
    assert not os.path.exists(tmp_path / "config.json")
    if runc:
        assert call(runc, runc_root, command, "some-id", cwd=tmp_path).returncode == 1


@pytest.mark.parametrize("command", sorted(set(COMMANDS) - WITHOUT_ID - FROM_BUNDLE))
def test_an_unknown_id_does_not_exist(roots, command):
    pyoci, runc, root, runc_root = roots
    cid = f"cli-{uuid.uuid4().hex[:12]}"
    args = [command, cid] + (["true"] if command == "exec" else [])
    proc = call(pyoci, root, *args)
    assert proc.returncode == EXIT.get(command, 1), proc.stderr
    assert "container does not exist" in proc.stderr
    assert not os.path.exists(os.path.join(root, cid))
    if runc:
        theirs = call(runc, runc_root, *args)
        assert theirs.returncode == proc.returncode
        assert "container does not exist" in theirs.stderr


@pytest.mark.parametrize("command", sorted(FROM_BUNDLE - {"restore"}))
def test_a_new_id_with_a_bundle_without_config_names_config_json(roots, command, tmp_path):
    pyoci, runc, root, runc_root = roots
    cid = f"cli-{uuid.uuid4().hex[:12]}"
    proc = call(pyoci, root, command, "--bundle", str(tmp_path), cid)
    assert proc.returncode == 1
    assert "config.json" in proc.stderr
    assert not os.path.exists(os.path.join(root, cid))
    if runc:
        theirs = call(runc, runc_root, command, "--bundle", str(tmp_path), cid)
        assert theirs.returncode == 1 and "config.json" in theirs.stderr


def test_signal_0_probes_the_init(runtime):
    cid = runtime.new_id("cli")
    bundle = runtime.bundle(["sleep", "30"], rootfs=runtime.rootfs)
    runtime("run", "-d", "--bundle", bundle, cid, check=True)
    assert runtime("kill", cid, "0").returncode == 0
    assert runtime.state(cid)["status"] == "running"
    runtime("kill", cid, "KILL", check=True)
    wait_for(lambda: runtime.state(cid)["status"] == "stopped")
    proc = runtime("kill", cid, "0")
    assert proc.returncode == 1 and "container not running" in proc.stderr


STEPS = ["run:parsed", "create:validated", "create:planned", "create:directory-made", "create:cgroups-made",
         "create:cloned", "create:pid-received", "create:state-written", "create:hooks-run",
         "create:ready-received", "create:created", "start:released"]


def test_debug_records_each_step_with_its_time(runtime, tmp_path):
    cid = runtime.new_id("cli")
    bundle = runtime.bundle(["true"], rootfs=runtime.rootfs)
    log_file = tmp_path / "log.json"
    proc = runtime("run", "--bundle", bundle, cid,
                   global_args=("--debug", "--log", str(log_file), "--log-format", "json"))
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in log_file.read_text().splitlines()]
    for where in (proc.stderr, "\n".join(r["msg"] for r in records)):
        found = re.findall(r"step (\S+)[^:]*: ([0-9.]+) ms \(\+([0-9.]+) ms\)", where)
        names = [name for name, _, _ in found]
        assert [s for s in names if s in STEPS] == STEPS, names
        times = [float(t) for _, t, _ in found]
        assert times == sorted(times)
    assert all(r["level"] == "debug" for r in records if "step " in r["msg"])
