"""The installed man pages (pyoci.cli.manpages, written at build time):
one per command and pyoci(8), where man(1) looks for the pages of this
environment, listing every command and every flag the parser takes."""
import os
import shutil
import subprocess
import sys

import pytest

from pyoci.cli import COMMANDS, GLOBALS
from pyoci.cli.manpages import command_module, escape

MAN8 = os.path.join(sys.prefix, "share", "man", "man8")


def page(name):
    path = os.path.join(MAN8, f"{name}.8")
    if not os.path.exists(path):
        pytest.fail(f"{path} is not installed")
    with open(path) as f:
        return f.read()


def test_a_page_per_command_and_none_for_a_command_gone():
    pages = {name for name in os.listdir(MAN8) if name == "pyoci.8" or name.startswith("pyoci-")}
    assert pages == {"pyoci.8"} | {f"pyoci-{c}.8" for c in COMMANDS}


@pytest.mark.skipif(not shutil.which("man"), reason="no man(1) here")
def test_man_finds_them_through_path():
    # man-db searches <dir>/../share/man for each directory on PATH.
    env = {k: v for k, v in os.environ.items() if k != "MANPATH"}
    env["PATH"] = os.path.join(sys.prefix, "bin") + os.pathsep + env.get("PATH", "")
    for name in ("pyoci", "pyoci-create"):
        found = subprocess.run(["man", "-w", name], env=env, capture_output=True, text=True).stdout.strip()
        assert found == os.path.join(MAN8, f"{name}.8")


def test_main_page_lists_every_command_and_global_flag():
    text = page("pyoci")
    assert text.startswith('.TH "PYOCI" "8"')
    for command in COMMANDS:
        assert f"\\fB{command}\\fR" in text, command
        assert f"\\fBpyoci\\-{command}\\fR(8)" in text, command
    for flag in GLOBALS:
        for name in flag.names:
            assert f"\\fB{escape(name)}\\fR" in text, name


@pytest.mark.parametrize("command", COMMANDS)
def test_command_page_lists_every_flag(command):
    text = page(f"pyoci-{command}")
    module = command_module(command)
    assert text.startswith(f'.TH "PYOCI-{command.upper()}" "8"')
    assert f"\\fBpyoci\\fR [\\fIglobal flags\\fR] \\fB{command}\\fR" in text
    for flag in module.FLAGS:
        for name in flag.names:
            assert f"\\fB{escape(name)}\\fR" in text, name
    for positional in module.POSITIONALS:
        assert f"\\fI{escape(positional.rstrip('?').upper())}\\fR" in text


def test_escape_keeps_troff_from_reading_text_as_requests():
    assert escape("--root") == "\\-\\-root"
    assert escape("a\\0") == "a\\e0"
    assert escape(".x\n'y\nz.") == "\\&.x\n\\&'y\nz."
