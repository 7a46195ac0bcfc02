"""pyoci/_constants.py, the kernel constants generated from the build
host's headers (pyoci/_native/constants.py): they agree with what Python
itself was built with, the generator takes the ABI value only for a name
the headers lack and fails the build where the headers disagree with it,
and no module copies a kernel constant by hand."""
import errno
import os
import re
import resource
import signal
import subprocess

import pytest

import pyoci
from pyoci import _constants
from pyoci._native import constants as generator

SOURCE = os.path.dirname(pyoci.__file__)
# A module-level assignment of numbers to names (one, or a tuple of them).
NUMBER = r"(?:0x[0-9a-fA-F]+|\d+)"
ASSIGNED = re.compile(rf"^([A-Z][A-Z0-9_]*(?:, [A-Z][A-Z0-9_]*)*) = {NUMBER}(?:, {NUMBER})*\b", re.M)
# The prefixes of the kernel's names, and its errno and signal names.
KERNEL_PREFIXES = ("MS_", "MOUNT_ATTR_", "CLONE_", "RLIMIT_", "SCHED_", "MPOL_", "IOPRIO_", "PER_", "SECCOMP_",
                   "SCMP_", "BPF_", "SIOC", "IFF_", "IFA_", "RT_SCOPE_", "O_", "AT_", "S_IF", "NS_GET_", "PR_",
                   "CAP_", "TIOC", "SO_", "SOL_", "SCM_")
KERNEL_NAMES = set(errno.errorcode.values()) | {s.name for s in signal.Signals}
# An errno or a signal compared or sent as a bare number.
INLINE = re.compile(r"(?:errno|-fd|-result|\.code)\)? *(?:==|!=|not in|in) *\(?\d|kill\([^)]*, *\d+\)")


def test_the_rlimits_are_pythons():
    known = {name: number for name, number in _constants.RLIMITS.items() if hasattr(resource, name)}
    assert len(known) >= 14  # Python lacks RLIMIT_LOCKS (and RLIMIT_RTTIME on some builds)
    for name, number in known.items():
        assert number == getattr(resource, name), name


def test_the_scheduler_policies_are_pythons():
    for name in ("SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH", "SCHED_IDLE"):
        assert _constants.SCHED_POLICIES[name] == getattr(os, name), name


def test_every_name_the_tables_promise_is_there():
    for table, entries in generator.TABLES.items():
        assert list(getattr(_constants, table)) == list(entries), table
    for name in generator.SCALARS:
        assert isinstance(getattr(_constants, name), int), name


@pytest.fixture
def only(monkeypatch):
    """Generate just one table, for the generator's own tests."""
    def restrict(table, abi_values):
        monkeypatch.setattr(generator, "SCALARS", {})
        monkeypatch.setattr(generator, "TABLES", {"T": table})
        monkeypatch.setattr(generator, "ABI_VALUES", abi_values)
        return generator.generate()
    return restrict


def test_a_name_the_headers_lack_takes_its_abi_value(only):
    text = only({"FIFO": "SCHED_FIFO", "FUTURE": "PYOCI_NOT_IN_ANY_HEADER"}, {"PYOCI_NOT_IN_ANY_HEADER": 9})
    assert "# PYOCI_NOT_IN_ANY_HEADER: not in these headers; 9, the kernel's value\n" in text
    found = {}
    exec(text, found)
    assert found["T"] == {"FIFO": 1, "FUTURE": 9}


def test_headers_that_disagree_with_the_abi_value_fail_the_build(only):
    with pytest.raises(subprocess.CalledProcessError):
        only({"FIFO": "SCHED_FIFO"}, {"SCHED_FIFO": 7})


def test_a_name_no_header_has_fails_the_build(only):
    with pytest.raises(subprocess.CalledProcessError):
        only({"X": "PYOCI_NOT_IN_ANY_HEADER"}, {})


def test_no_module_copies_a_kernel_constant_by_hand():
    """Neither as a module's constant nor inline (errno == 16, kill(pid, 9))."""
    copied = []
    for directory, _dirs, files in os.walk(SOURCE):
        for name in files:
            path = os.path.join(directory, name)
            if name.endswith(".py") and name != "_constants.py":
                with open(path) as f:
                    copied += [f"{os.path.relpath(path, SOURCE)}: {m.group(0)}" for m in ASSIGNED.finditer(f.read())
                               for name in m.group(1).split(", ")
                               if name.startswith(KERNEL_PREFIXES) or name in KERNEL_NAMES]
                    f.seek(0)
                    copied += [f"{os.path.relpath(path, SOURCE)}:{n}: {line.strip()}"
                               for n, line in enumerate(f, 1) if INLINE.search(line)]
    assert copied == []
