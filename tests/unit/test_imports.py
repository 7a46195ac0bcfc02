"""Heavy imports stay off the paths that do not need them: every engine call
is a fresh interpreter, so an import is paid per container operation.
Counted by module, not timed."""
import subprocess
import sys

NEVER = {"argparse", "jsonschema", "gettext", "locale", "shutil"}


def modules_after(argv):
    code = ("import sys\nfrom pyoci.cli import main\n"
            f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
            "sys.stderr.write('\\n' + ' '.join(sorted(sys.modules)))")
    # cwd "/": `python -c` puts its working directory first on sys.path, and
    # from a checkout that would be the sources, not the installed package.
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/")
    return set(proc.stderr.rsplit("\n", 1)[-1].split())


def test_version_imports_next_to_nothing():
    loaded = modules_after(["--version"])
    assert "pyoci.cli" in loaded  # the probe ran
    assert not loaded & (NEVER | {"json", "socket", "_cffi_backend", "re"})


def test_state_reads_json_and_no_more(tmp_path):
    loaded = modules_after(["--root", str(tmp_path), "state", "missing"])
    assert "json" in loaded
    assert not loaded & (NEVER | {"socket", "_cffi_backend", "subprocess", "pyoci.plan.compile"})


def test_create_of_a_bad_bundle_avoids_general_purpose_validators(tmp_path):
    loaded = modules_after(["--root", str(tmp_path), "create", "-b", str(tmp_path / "nope"), "x"])
    assert "pyoci.spec.load" in loaded
    assert not loaded & (NEVER | {"subprocess"})
