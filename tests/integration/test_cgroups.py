"""linux.resources on the host's real cgroups: each value checked in the
host's cgroupfs, where this machine's layout has the controller."""
import os

import pytest

from pyoci.cgroups import hierarchies
from test_isolation import created


def v1_memory_root():
    for h in hierarchies():
        if not h.v2 and "memory" in h.controllers:
            return h.mountpoint
    return None


@pytest.mark.skipif(v1_memory_root() is None, reason="no v1 memory controller on this host")
def test_memory_fields_v1(runtime):
    limit = 50593792
    path = f"/pyoci-test-memory-{os.urandom(4).hex()}"

    def mutate(config):
        config["linux"]["cgroupsPath"] = path
        config["linux"]["resources"] = {"memory": {
            "limit": limit, "reservation": limit // 2, "swap": 2 * limit, "kernel": limit, "kernelTCP": limit,
            "swappiness": 10, "disableOOMKiller": True}}

    cid, pid = created(runtime, mutate=mutate)
    directory = v1_memory_root() + path

    def read(name):
        with open(os.path.join(directory, name)) as f:
            return f.read()

    assert str(pid) in read("cgroup.procs").split()
    assert int(read("memory.limit_in_bytes")) == limit
    assert int(read("memory.soft_limit_in_bytes")) == limit // 2
    assert int(read("memory.memsw.limit_in_bytes")) == 2 * limit
    assert int(read("memory.kmem.tcp.limit_in_bytes")) == limit
    assert int(read("memory.swappiness")) == 10
    assert "oom_kill_disable 1" in read("memory.oom_control")
    runtime("delete", "-f", cid, check=True)
    assert not os.path.exists(directory)
