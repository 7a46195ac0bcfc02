"""Heavy imports stay off the paths that do not need them: every engine call
is a fresh interpreter, so an import is paid per container operation.
Counted by module, not timed.

The probe runs the way the installed `pyoci` launcher does: `python -I -S`
with the package's site-packages appended by hand, so nothing `site` loads
hides what pyoci itself imports."""
import json
import os
import subprocess
import sys
import uuid

import pytest

import pyoci
from bundle import default_config, write_bundle
from pyoci.core.procfs import process_start_time

NEVER = {"argparse", "jsonschema", "gettext", "locale", "shutil"}
# What start, state, kill and delete must not pay for: each costs about as
# much as the command's own work (os ~2 ms, json -> re -> enum more).
HEAVY = {"os", "json", "re", "enum", "socket", "signal", "subprocess", "_cffi_backend", "importlib", "warnings"}
SITE_PACKAGES = os.path.dirname(os.path.dirname(os.path.abspath(pyoci.__file__)))


def probe(argv):
    """(modules loaded, main's return value, stdout) of one command run as the launcher runs it."""
    code = (f"import sys\nsys.path.append({SITE_PACKAGES!r})\nfrom pyoci.cli import main\n"
            f"try:\n    code = main({argv!r})\nexcept SystemExit as e:\n    code = e.code\n"
            "sys.stderr.write('\\n%s %s' % (code, ' '.join(sorted(sys.modules))))")
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True)
    code, _, loaded = proc.stderr.rsplit("\n", 1)[-1].partition(" ")
    return set(loaded.split()), code, proc.stdout


def modules_after(argv):
    return probe(argv)[0]


def test_version_imports_next_to_nothing_but_libseccomp():
    loaded = modules_after(["--log", "/dev/null", "--version"])
    assert "pyoci.cli" in loaded  # the probe ran
    # libseccomp's version is asked of the loaded library, through cffi.
    assert {"pyoci._native._seccomp", "_cffi_backend"} <= loaded
    assert not loaded & (NEVER | HEAVY - {"_cffi_backend"} | {"pyoci.core.log_records"})  # no record written


def test_lifecycle_commands_stay_light(tmp_path):
    for argv in (["state", "missing"], ["start", "missing"], ["kill", "missing", "KILL"], ["delete", "missing"],
                 ["delete", "--force", "missing"]):
        loaded = modules_after(["--root", str(tmp_path), *argv])
        assert "pyoci.state" in loaded, argv  # the probe reached the state store
        assert not loaded & (NEVER | HEAVY), (argv, loaded & (NEVER | HEAVY))


def test_create_validates_and_plans_without_general_purpose_modules(tmp_path):
    """create needs the shim (cffi), but not os, json or re: each costs
    milliseconds, a create is ~20 ms of interpreter floor plus its work."""
    bundle = tmp_path / "bundle"
    (bundle / "rootfs").mkdir(parents=True)
    write_bundle(str(bundle), default_config(["true"]))
    loaded = modules_after(["--root", str(tmp_path / "root"), "create", "--dry-run", "-b", str(bundle), "x"])
    assert {"pyoci.spec.config_schema", "pyoci.plan.compile"} <= loaded  # it validated and planned
    assert not loaded & (NEVER | HEAVY - {"_cffi_backend"}), loaded & (NEVER | HEAVY)
    # the build generated the check: the generator is not loaded, and the
    # schema's patterns are matched by plain predicates (re is in HEAVY)
    assert "pyoci.spec.validator" not in loaded and "pyoci.spec.patterns" in loaded
    # libseccomp is loaded only for a config with linux.seccomp
    assert "pyoci._native._seccomp" not in loaded
    config = default_config(["true"])
    config["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW",
                                  "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO"}]}
    write_bundle(str(bundle), config)
    loaded = modules_after(["--root", str(tmp_path / "root"), "create", "--dry-run", "-b", str(bundle), "y"])
    assert "pyoci._native._seccomp" in loaded


@pytest.mark.skipif(os.geteuid() != 0, reason="a real container needs root")
def test_run_talks_to_its_init_without_the_socket_module(tmp_path, rootfs):
    """create, run and exec answer the container's first process through the
    shim: loading _socket and running its objects cost ~0.3 ms and some
    300 KiB of the interpreter's pages per command."""
    bundle = write_bundle(str(tmp_path / "bundle"), default_config(["true"], rootfs))
    root = str(tmp_path / "root")
    cid = f"imports-{uuid.uuid4().hex[:12]}"
    try:
        loaded, code, _ = probe(["--root", root, "run", "-b", bundle, cid])
    finally:
        probe(["--root", root, "delete", "--force", cid])  # a no-op once run has deleted it
    assert code == "0" and "pyoci.launch.native" in loaded  # the container ran, through the shim
    assert not loaded & {"_socket", "pyoci._native._seccomp"}, loaded & {"_socket", "pyoci._native._seccomp"}


@pytest.fixture
def running(tmp_path):
    """A state root holding one `running` container whose init is a sleep
    this test started (no root needed, nothing of the host's touched)."""
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        root = tmp_path / "root"
        (root / "c1").mkdir(parents=True)
        record = {"ociVersion": "1.3.0", "id": "c1", "pid": sleeper.pid,
                  "init_start_time": process_start_time(sleeper.pid)[0], "bundle": str(tmp_path),
                  "rootfs": str(tmp_path), "created": "2026-01-01T00:00:00Z", "owner": "", "annotations": {},
                  "hooks": {}, "cgroup": {"dirs": {}, "made": [], "freezers": []}, "host_mounts": None,
                  "has_process": True}
        (root / "c1" / "state.json").write_text(json.dumps(record))
        yield str(root), sleeper
    finally:
        sleeper.kill()
        sleeper.wait()


def test_state_and_kill_of_a_running_container_load_only_what_they_use(running):
    """No cgroup code for a status (create recorded the freezer files), no
    log module without a record to write, no hooks without hooks."""
    root, sleeper = running
    loaded, code, stdout = probe(["--root", root, "state", "c1"])
    assert code == "0" and json.loads(stdout)["status"] == "running"
    assert not loaded & {"pyoci.cgroups", "pyoci.core.log", "pyoci.hooks", "pyoci.launch.sync"}, loaded
    loaded, code, _ = probe(["--root", root, "kill", "c1", "TERM"])
    assert code == "0" and sleeper.wait(timeout=10) == -15  # it did signal the init
    assert not loaded & {"pyoci.cgroups", "pyoci.core.log", "pyoci.hooks", "pyoci.launch.sync"}, loaded
