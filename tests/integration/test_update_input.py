"""update given values of the wrong kind (-r FILE, -r - and the flags):
held to the schema's linux.resources as config.json is, each refusal
names the field as create's check does, exits 1 without a traceback,
and changes nothing: the cgroup's limits and state.json are as before."""
import os

import pytest

from pyoci.cgroups import hierarchies
from test_update import controller_dir, read, running

CASES = [
    # (-r's JSON, or None; flags; what the error must say)
    ('{"memory": {"limit": "abc"}}', [], "linux.resources.memory.limit: 'abc' is not of type 'integer'"),
    ('{"pids": {"limit": "many"}}', [], "linux.resources.pids.limit: 'many' is not of type 'integer'"),
    # A valid field beside a bad one is not applied either.
    ('{"memory": {"limit": 33554432}, "cpu": {"cpus": 5}}', [], "linux.resources.cpu.cpus: 5 is not of type 'string'"),
    ('{"devices": [{"type": "c", "major": 1, "minor": 3}]}', [], "linux.resources.devices[0]: 'allow' is a required property"),
    ('{"memory": "64m"}', [], "linux.resources.memory: '64m' is not of type 'object'"),
    ('{"pids": {"limit": 20}, "memory": {"swappiness": -1}}', [], "linux.resources.memory.swappiness: -1 is less than the minimum of 0"),
    (None, ["--cpuset-cpus", "0-x"], "--cpuset-cpus: linux.resources.cpu.cpus: '0-x' does not match"),
    (None, ["--pids-limit", "20", "--blkio-weight", "70000"],
     "--blkio-weight: linux.resources.blockIO.weight: 70000 is greater than the maximum of 65535"),
    (None, ["--cpu-period", "-100000"], "--cpu-period: linux.resources.cpu.period: -100000 is less than the minimum of 0"),
]


def limits(pid):
    """The container's memory and pids limits as the host's cgroupfs holds them."""
    if any(h.has_controllers for h in hierarchies()):
        return read(controller_dir(pid, "memory"), "memory.limit_in_bytes"), read(controller_dir(pid, "pids"), "pids.max")
    v2 = next(h.mountpoint for h in hierarchies() if h.v2)
    with open(f"/proc/{pid}/cgroup") as f:
        directory = v2 + next(line.rstrip("\n")[3:] for line in f if line.startswith("0::"))
    return read(directory, "memory.max"), read(directory, "pids.max")


@pytest.mark.parametrize("via_stdin", [False, True], ids=["file", "stdin"])
@pytest.mark.parametrize("text, flags, error", CASES, ids=[c[2].split(":")[0] for c in CASES])
def test_bad_input_is_refused_by_field_and_changes_nothing(runtime, tmp_path, via_stdin, text, flags, error):
    if text is None and via_stdin:
        pytest.skip("flags only: nothing to read")
    cid, pid = running(runtime, {"memory": {"limit": 64 << 20}, "pids": {"limit": 50}})
    state = os.path.join(runtime.root, cid, "state.json")
    with open(state, "rb") as f:
        before = f.read(), limits(pid)
    args = list(flags)
    if text is not None:
        path = tmp_path / "resources.json"
        path.write_text(text)
        args = ["-r", "-" if via_stdin else str(path)] + args
    proc = runtime("update", *args, cid, input=text if via_stdin else None)
    assert proc.returncode == 1, proc.stderr
    assert error in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    with open(state, "rb") as f:
        assert (f.read(), limits(pid)) == before
