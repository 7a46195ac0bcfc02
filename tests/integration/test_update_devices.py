"""update of device rules: a tightened rule and a loosened one both take
effect, and the nodes of linux.devices stay allowed.  On cgroup v2 the
container's device program is replaced, never stacked (programs attached
with BPF_F_ALLOW_MULTI all have to allow an access, so a stacked one could
tighten but never loosen), and the new one is built as create builds it;
the count of programs on the cgroup is read back from the kernel
(BPF_PROG_QUERY).  A hybrid host runs the scenario on v1's devices
controller, and the shim's replacement in its cgroup2 hierarchy."""
import ctypes
import json
import os
import subprocess
import sys
import uuid

import pytest

from pyoci.cgroups import hierarchies
from pyoci.cgroups.device_program import attach, parse_rule
from test_isolation import created

V2 = next((h.mountpoint for h in hierarchies() if h.v2), None)
PURE_V2 = V2 is not None and not any(h.has_controllers for h in hierarchies())

SYS_BPF = 321  # x86_64
BPF_PROG_QUERY, BPF_CGROUP_DEVICE = 16, 6

KMSG = {"allow": True, "type": "c", "major": 1, "minor": 11, "access": "w"}


def attached_programs(cgroup_dir):
    """Ids of the device programs attached to cgroup_dir itself (not its
    ancestors'), in the kernel's order."""
    ids = (ctypes.c_uint32 * 64)()
    attr = ctypes.create_string_buffer(120)
    fd = os.open(cgroup_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        # union bpf_attr's query: target_fd, attach_type, query_flags, attach_flags, prog_ids, prog_cnt
        ctypes.memmove(attr, (ctypes.c_uint32 * 2)(fd, BPF_CGROUP_DEVICE), 8)
        ctypes.memmove(ctypes.byref(attr, 16), (ctypes.c_uint64 * 1)(ctypes.addressof(ids)), 8)
        ctypes.memmove(ctypes.byref(attr, 24), (ctypes.c_uint32 * 1)(64), 4)
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.syscall(SYS_BPF, BPF_PROG_QUERY, attr, ctypes.sizeof(attr)) < 0:
            raise OSError(ctypes.get_errno(), "BPF_PROG_QUERY")
    finally:
        os.close(fd)
    count = int.from_bytes(attr.raw[24:28], "little")
    return list(ids[:count])


@pytest.fixture
def v2_cgroup():
    if V2 is None:
        pytest.skip("no cgroup2 hierarchy on this host")
    path = os.path.join(V2, f"pyoci-test-replace-{uuid.uuid4().hex[:8]}")
    os.mkdir(path)
    yield path
    os.rmdir(path)


def opened_in(cgroup_dir, *paths):
    """What a process in cgroup_dir gets opening each path read-only."""
    script = ("import os, sys\n"
              "for path in sys.argv[1:]:\n"
              "    try:\n"
              "        os.close(os.open(path, os.O_RDONLY)); print('opened')\n"
              "    except OSError as e:\n"
              "        print(e.strerror)\n")

    def join():
        with open(os.path.join(cgroup_dir, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))

    return subprocess.run([sys.executable, "-c", script, *paths], preexec_fn=join,
                          capture_output=True, text=True, timeout=30).stdout.split("\n")[:-1]


def test_a_replacing_program_is_the_only_one_attached(v2_cgroup):
    """The shim on its own, in a cgroup of this host's cgroup2 hierarchy:
    a replacement takes the place of the program it names, or of all in a
    cgroup pyoci made."""
    deny_all = {"allow": False, "access": "rwm"}
    first = attach(v2_cgroup, [deny_all, parse_rule("c 1:3 rwm")])  # /dev/null only
    assert attached_programs(v2_cgroup) == [first]
    assert opened_in(v2_cgroup, "/dev/null", "/dev/zero") == ["opened", "Operation not permitted"]
    second = attach(v2_cgroup, [deny_all, parse_rule("c 1:5 rwm")], replacing=first)  # /dev/zero only
    assert attached_programs(v2_cgroup) == [second]
    assert opened_in(v2_cgroup, "/dev/null", "/dev/zero") == ["Operation not permitted", "opened"]
    # A program id that is not attached here (gone, or another cgroup's)
    # replaces nothing: the new program is added.
    third = attach(v2_cgroup, [deny_all, parse_rule("c 1:3 rwm")], replacing=first)
    assert attached_programs(v2_cgroup) == [second, third]
    # In a cgroup pyoci made (sole), every other program there goes.
    fourth = attach(v2_cgroup, [deny_all, parse_rule("c 1:5 rwm")], replacing=first, sole=True)
    assert attached_programs(v2_cgroup) == [fourth]
    assert opened_in(v2_cgroup, "/dev/null", "/dev/zero") == ["Operation not permitted", "opened"]


def v2_programs(pid):
    """How many device programs the container's cgroup holds; None where its
    devices are v1's devices controller (a hybrid host), which has none."""
    if not PURE_V2:
        return None
    with open(f"/proc/{pid}/cgroup") as f:
        path = next(line.rstrip("\n")[3:] for line in f if line.startswith("0::"))
    return len(attached_programs(V2 + path))


def opens(runtime, cid, redirect):
    """Whether a process exec'd in the container can open a node: `< path`
    reads, `> path` writes."""
    proc = runtime("exec", cid, "sh", "-c", f": {redirect}")
    assert proc.returncode == 0 or "Operation not permitted" in proc.stderr, proc.stderr
    return proc.returncode == 0


def test_update_tightens_and_loosens_device_rules(runtime, tmp_path):
    """On either cgroup version; on v2 the container's cgroup holds one
    program throughout (the scripts/test-v2.sh lane runs that)."""
    # /dev/kmsg (c 1:11, write-only opens need no capability) is bound in:
    # only the rules decide it.  The linux.devices node is one no default
    # rule allows: only the node's own rule does.
    if not os.path.exists("/dev/userfaultfd"):
        pytest.skip("no /dev/userfaultfd on this kernel (a node for linux.devices)")
    uffd = os.stat("/dev/userfaultfd").st_rdev

    def mutate(config):
        config["linux"]["resources"]["devices"] = [{"allow": False, "access": "rwm"}, KMSG]
        config["linux"]["devices"] = [{"path": "/dev/uffd", "type": "c", "major": os.major(uffd),
                                       "minor": os.minor(uffd), "fileMode": 0o600, "uid": 0, "gid": 0}]
        config["mounts"].append({"destination": "/dev/kmsg", "type": "bind", "source": "/dev/kmsg",
                                 "options": ["bind"]})

    cid, pid = created(runtime, mutate=mutate)
    runtime("start", cid, check=True)
    one = None if not PURE_V2 else 1
    assert v2_programs(pid) == one
    assert opens(runtime, cid, "> /dev/kmsg") and opens(runtime, cid, "< /dev/uffd")

    rules = tmp_path / "devices.json"
    rules.write_text('{"devices": [{"allow": false, "type": "c", "major": 1, "minor": 11, "access": "rwm"}]}')
    runtime("update", "-r", str(rules), cid, check=True)
    assert not opens(runtime, cid, "> /dev/kmsg")
    assert opens(runtime, cid, "< /dev/uffd") and opens(runtime, cid, "< /dev/null")
    assert v2_programs(pid) == one

    rules.write_text('{"devices": [{"allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"}]}')
    runtime("update", "-r", str(rules), cid, check=True)
    assert opens(runtime, cid, "> /dev/kmsg")
    assert opens(runtime, cid, "< /dev/uffd") and opens(runtime, cid, "< /dev/null")
    assert v2_programs(pid) == one


@pytest.mark.skipif(not PURE_V2, reason="counts cgroup v2 device programs (the scripts/test-v2.sh lane)")
@pytest.mark.skipif("PYOCI_RUNTIME" in os.environ, reason="the fault point is pyoci's")
def test_an_update_killed_before_it_recorded_its_program_leaves_none_stacked(runtime, tmp_path):
    """update SIGKILLed after its program replaced create's but before
    state.json names it: the next update still leaves one program on the
    container's cgroup (it made that cgroup, so every other program there
    goes), and so does one whose record names no program at all."""
    def mutate(config):
        config["linux"]["resources"]["devices"] = [{"allow": False, "access": "rwm"}, KMSG]
        config["mounts"].append({"destination": "/dev/kmsg", "type": "bind", "source": "/dev/kmsg",
                                 "options": ["bind"]})

    cid, pid = created(runtime, mutate=mutate)
    runtime("start", cid, check=True)
    deny, allow = tmp_path / "deny.json", tmp_path / "allow.json"
    deny.write_text('{"devices": [{"allow": false, "type": "c", "major": 1, "minor": 11, "access": "rwm"}]}')
    allow.write_text('{"devices": [{"allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"}]}')
    killed = runtime("update", "-r", str(deny), cid, env=dict(os.environ, PYOCI_FAULT="update:resources-applied"))
    assert killed.returncode == -9, killed.stderr
    assert v2_programs(pid) == 1 and not opens(runtime, cid, "> /dev/kmsg")
    runtime("update", "-r", str(allow), cid, check=True)
    assert v2_programs(pid) == 1 and opens(runtime, cid, "> /dev/kmsg")

    state = os.path.join(runtime.root, cid, "state.json")
    with open(state) as f:
        record = json.load(f)
    record["cgroup"]["devices"]["program"] = None
    with open(state, "w") as f:
        json.dump(record, f)
    runtime("update", "-r", str(deny), cid, check=True)
    assert v2_programs(pid) == 1 and not opens(runtime, cid, "> /dev/kmsg")
