"""Heavy imports stay off the paths that do not need them: every engine call
is a fresh interpreter, so an import is paid per container operation.
Counted by module, not timed.

The probe runs the way the installed `pyoci` launcher does: `python -I -S`
with the package's site-packages appended by hand, so nothing `site` loads
hides what pyoci itself imports."""
import os
import subprocess
import sys

import pyoci
from bundle import default_config, write_bundle

NEVER = {"argparse", "jsonschema", "gettext", "locale", "shutil"}
# What start, state, kill and delete must not pay for: each costs about as
# much as the command's own work (os ~2 ms, json -> re -> enum more).
HEAVY = {"os", "json", "re", "enum", "socket", "signal", "subprocess", "_cffi_backend", "importlib", "warnings"}
SITE_PACKAGES = os.path.dirname(os.path.dirname(os.path.abspath(pyoci.__file__)))


def modules_after(argv):
    code = (f"import sys\nsys.path.append({SITE_PACKAGES!r})\nfrom pyoci.cli import main\n"
            f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
            "sys.stderr.write('\\n' + ' '.join(sorted(sys.modules)))")
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True)
    return set(proc.stderr.rsplit("\n", 1)[-1].split())


def test_version_imports_next_to_nothing():
    loaded = modules_after(["--log", "/dev/null", "--version"])
    assert "pyoci.cli" in loaded  # the probe ran
    assert not loaded & (NEVER | HEAVY | {"pyoci.log"})  # no record written, no log module


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
    assert {"pyoci.spec.validator", "pyoci.plan.compile"} <= loaded  # it validated and planned
    assert not loaded & (NEVER | HEAVY - {"_cffi_backend"}), loaded & (NEVER | HEAVY)
