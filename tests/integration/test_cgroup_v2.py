"""cgroup v2 code on the real kernel, in a cgroup of the host's cgroup2
hierarchy (this hybrid host's /sys/fs/cgroup/unified serves): the device
program must let a process there open exactly the devices the rules allow,
and the freezer must stop and release it."""
import os
import subprocess
import sys
import uuid

import pytest

from pyoci.cgroups import hierarchies
from pyoci.cgroups.device_program import attach, parse_rule
from pyoci.cgroups.freezer import freeze, thaw

V2 = next((h.mountpoint for h in hierarchies() if h.v2), None)

pytestmark = pytest.mark.skipif(V2 is None, reason="no cgroup2 hierarchy on this host")

OPEN = ("import os, sys\n"
        "for path in sys.argv[1:]:\n"
        "    try:\n"
        "        os.close(os.open(path, os.O_RDONLY)); print(path, 'opened')\n"
        "    except OSError as e:\n"
        "        print(path, e.strerror)\n")


@pytest.fixture
def v2_cgroup():
    path = os.path.join(V2, f"pyoci-test-devices-{uuid.uuid4().hex[:8]}")
    os.mkdir(path)
    yield path
    os.rmdir(path)


def test_only_allowed_devices_open(v2_cgroup):
    attach(v2_cgroup, [{"allow": False, "access": "rwm"}, parse_rule("c 1:3 rwm")])  # /dev/null only

    def join():
        with open(os.path.join(v2_cgroup, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))

    out = subprocess.run([sys.executable, "-c", OPEN, "/dev/null", "/dev/zero"], preexec_fn=join,
                         capture_output=True, text=True, timeout=30).stdout
    assert out.splitlines() == ["/dev/null opened", "/dev/zero Operation not permitted"]


def test_freeze_and_thaw_through_cgroup_freeze(v2_cgroup):
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        with open(os.path.join(v2_cgroup, "cgroup.procs"), "w") as f:
            f.write(str(sleeper.pid))
        freezer = [os.path.join(v2_cgroup, "cgroup.freeze")]
        freeze(freezer, "test")
        with open(os.path.join(v2_cgroup, "cgroup.events")) as f:
            assert "frozen 1" in f.read().split("\n")
        thaw(freezer)
        with open(os.path.join(v2_cgroup, "cgroup.events")) as f:
            assert "frozen 0" in f.read().split("\n")
    finally:
        sleeper.kill()
        sleeper.wait()
