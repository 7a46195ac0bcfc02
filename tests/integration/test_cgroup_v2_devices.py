"""The cgroup v2 device program on the real kernel: attached to a cgroup of
the host's cgroup2 hierarchy (this hybrid host's /sys/fs/cgroup/unified
serves), it must let a process in that cgroup open exactly the devices the
rules allow."""
import os
import subprocess
import sys
import uuid

import pytest

from pyoci.cgroups import hierarchies
from pyoci.cgroups.device_program import attach, parse_rule

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
