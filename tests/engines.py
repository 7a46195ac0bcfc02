"""The runtimes the end-to-end tests point real engines (podman, containerd)
at: pyoci and, for parity, runc.  Each test runs once per runtime, so a
difference shows as a failing test with the runtime in its id."""
import os
import shutil
import sys
import time

import pytest


def engine_runtimes():
    """(name, binary): the pyoci installed beside this Python, and runc.
    podman knows a runtime by its binary's name (runtime_supports_json)."""
    found = [("pyoci", os.path.join(os.path.dirname(sys.executable), "pyoci"))]
    runc = shutil.which("runc")
    if runc:
        found.append(("runc", runc))
    return found


RUNTIME_PARAMS = [pytest.param(binary, id=name) for name, binary in engine_runtimes()]


def wait_for(predicate, timeout=10, what=lambda: "timed out"):
    """Poll predicate until it holds; the engines act asynchronously."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what()
        time.sleep(0.05)
