"""Process security as the kernel sees it: capabilities, no_new_privs and
seccomp read from the host's /proc, setuid programs under a user namespace,
and the LSM fields on a host without an LSM."""
import os
import shutil
import subprocess
import tempfile

import pytest

from bundle import make_rootfs
from test_isolation import DEFAULT_CAPS, USERNS_MAP, add_userns, created


def host_status(pid):
    with open(f"/proc/{pid}/status") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def test_the_kernel_sees_the_configured_caps_no_new_privs_and_filter(runtime):
    def seccomp(config):
        config["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW",
                                      "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]}

    cid, pid = created(runtime, mutate=seccomp)
    runtime("start", cid, check=True)
    status = host_status(pid)
    assert int(status["CapEff"], 16) == int(status["CapPrm"], 16) == int(status["CapBnd"], 16) == DEFAULT_CAPS
    assert int(status["CapInh"], 16) == int(status["CapAmb"], 16) == 0
    assert status["NoNewPrivs"] == "1"
    assert status["Seccomp"] == "2" and status["Seccomp_filters"] == "1"


EUID_PROGRAM = """#include <stdio.h>
#include <unistd.h>
int main(void) { printf("%d %d\\n", (int)getuid(), (int)geteuid()); return 0; }
"""


@pytest.fixture
def setuid_rootfs(tmp_path):
    """A rootfs others can reach (a user namespace's root is a host
    nobody), with /euid: a setuid-root program that prints uid and euid."""
    if shutil.which("cc") is None:
        pytest.skip("no C compiler for the setuid program")
    base = tempfile.mkdtemp(prefix="pyoci-test-setuid-")
    os.chmod(base, 0o755)
    rootfs = make_rootfs(os.path.join(base, "rootfs"))
    (tmp_path / "euid.c").write_text(EUID_PROGRAM)
    program = os.path.join(rootfs, "euid")
    subprocess.run(["cc", "-static", "-o", program, str(tmp_path / "euid.c")], check=True)
    yield rootfs
    shutil.rmtree(base)


@pytest.mark.parametrize("owner, nnp, expected", [
    (0, False, "1000 1000"),        # owned by the host's root, unmapped inside: the bit means nothing
    (100000, False, "1000 0"),      # owned by the container's root: becomes that root, host uid 100000
    (100000, True, "1000 1000"),    # no_new_privs: the bit is ignored
])
def test_setuid_under_a_user_namespace_reaches_no_further_than_its_root(runtime, setuid_rootfs, owner, nnp, expected):
    program = os.path.join(setuid_rootfs, "euid")
    os.chown(program, owner, owner)
    os.chmod(program, 0o4755)

    def mutate(config):
        add_userns(config)
        config["process"]["user"] = {"uid": 1000, "gid": 1000}
        config["process"]["noNewPrivileges"] = nnp

    cid = runtime.new_id()
    proc = runtime("run", "-b", runtime.bundle(["/euid"], rootfs=setuid_rootfs, mutate=mutate), cid)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == expected
    assert USERNS_MAP[0]["hostID"] == 100000  # the container's root is this host uid


def test_selinux_labels_are_skipped_with_a_debug_record(runtime, tmp_path):
    def labels(config):
        config["process"]["selinuxLabel"] = "system_u:system_r:container_t:s0:c1,c2"
        config["linux"]["mountLabel"] = "system_u:object_r:container_file_t:s0:c1,c2"

    log = tmp_path / "debug.log"
    cid = runtime.new_id()
    proc = runtime("run", "-b", runtime.bundle(["true"], rootfs=runtime.rootfs, mutate=labels), cid,
                   global_args=("--debug", "--log", str(log)))
    assert proc.returncode == 0, proc.stderr
    assert "selinuxLabel" in log.read_text()
