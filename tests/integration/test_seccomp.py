"""linux.seccomp through libseccomp: actions, errnoRet, argument
comparisons, unknown names skipped, and a filter that blocks what the
runtime needs (getcwd) still starting the container."""
import pytest

from fd_receiver import receive_once

from test_isolation import run_probe

BASE_ALLOW = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"]}


def with_seccomp(profile, nnp=True):
    def mutate(config):
        config["linux"]["seccomp"] = dict(profile)
        config["process"]["noNewPrivileges"] = nnp
    return mutate


@pytest.mark.parametrize("nnp", [True, False])
def test_blocking_getcwd_still_starts_the_container(runtime, nnp):
    profile = dict(BASE_ALLOW, syscalls=[{"names": ["getcwd", "no_such_syscall"], "action": "SCMP_ACT_ERRNO"}])
    out = run_probe(runtime, "busybox pwd 2>&1; true", mutate=with_seccomp(profile, nnp))
    assert "Operation not permitted" in out


def test_a_filter_too_long_for_the_kernel_fails_create_naming_the_field(runtime):
    """The kernel refuses a filter over 4096 instructions with a bare EINVAL
    (and over 65535 the length it got wrapped around): create says why."""
    rules = [{"names": ["write"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": v, "op": "SCMP_CMP_EQ"}]}
             for v in range(1000, 6000)]
    cid = runtime.new_id()
    bundle = runtime.bundle(["true"], rootfs=runtime.rootfs, mutate=with_seccomp(dict(BASE_ALLOW, syscalls=rules)))
    proc = runtime("create", "-b", bundle, cid)
    assert proc.returncode == 1
    assert "linux.seccomp: the profile compiles to" in proc.stderr and "at most 4096" in proc.stderr, proc.stderr


def test_errno_ret_and_kill_process(runtime):
    profile = dict(BASE_ALLOW, syscalls=[
        {"names": ["getcwd"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_KILL_PROCESS"},
    ])
    out = run_probe(runtime, "busybox pwd 2>&1; mkdir /tmp/x 2>/dev/null; echo status $?",
                    mutate=with_seccomp(profile))
    assert "Function not implemented" in out
    assert "status 159" in out, "mkdir was killed by SIGSYS (128+31)"


def test_argument_comparisons(runtime):
    # busybox chmod calls chmod(path, mode): block mode 0700 exactly, and any
    # mode with the setuid bit (MASKED_EQ), let the rest through.
    profile = dict(BASE_ALLOW, syscalls=[
        {"names": ["chmod"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 1, "value": 0o700, "op": "SCMP_CMP_EQ"}]},
        {"names": ["chmod"], "action": "SCMP_ACT_ERRNO",
         "args": [{"index": 1, "value": 0o4000, "valueTwo": 0o4000, "op": "SCMP_CMP_MASKED_EQ"}]},
    ])

    def mutate(config):
        with_seccomp(profile)(config)
        config["root"]["readonly"] = False
        config["mounts"].append({"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]})

    out = run_probe(runtime, "touch /scratch/f; chmod 700 /scratch/f 2>&1; chmod 4755 /scratch/f 2>&1; "
                             "chmod 755 /scratch/f && echo chmod-ok; true", mutate=mutate)
    assert "chmod-ok" in out
    assert out.count("Operation not permitted") == 2, out


def test_allow_list_with_default_errno_ret(runtime):
    allowed = ["read", "write", "exit", "exit_group", "execve", "brk", "mmap", "munmap", "arch_prctl",
               "set_tid_address", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "getpid", "getppid",
               "fcntl", "dup2", "close", "getuid", "geteuid", "getgid", "newfstatat", "fstat", "ioctl",
               "prlimit64", "wait4", "clone", "fork", "vfork", "openat", "stat", "lseek", "getcwd",
               "uname", "set_robust_list", "rseq", "prctl", "clone3", "mprotect"]
    profile = {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
               "syscalls": [{"names": allowed, "action": "SCMP_ACT_ALLOW"}]}
    out = run_probe(runtime, "echo allowed; hostname changed 2>&1; true", mutate=with_seccomp(profile))
    assert "allowed" in out and "Function not implemented" in out


# struct seccomp_notif is 80 bytes, struct seccomp_notif_resp 24 (linux/seccomp.h).
NOTIF_RECV, NOTIF_SEND = 0xC0502100, 0xC0182101
EXDEV = 18


def seccomp_agent(path, answer_errno):
    """A seccomp agent on path, in a thread: it takes one connection, keeps
    the container process state and the notify fd it carries, then fails
    every notified syscall with answer_errno.  Returns the dict it fills."""
    import fcntl
    import json
    import struct

    got = {}

    def serve(payload, fds):
        got["state"], got["fds"] = json.loads(payload), fds
        notif = bytearray(80)
        while True:
            try:
                fcntl.ioctl(fds[0], NOTIF_RECV, notif, True)
                notif_id, _pid, _flags, nr = struct.unpack_from("QIIi", notif)
                got.setdefault("syscalls", []).append(nr)
                fcntl.ioctl(fds[0], NOTIF_SEND, struct.pack("QqiI", notif_id, 0, -answer_errno, 0))
            except OSError:  # the filter's last process is gone
                break

    receive_once(path, serve)
    return got


@pytest.mark.parametrize("annotation", [0, 1_000_000], ids=["plain", "1MB annotation"])
def test_notify_hands_the_fd_and_the_process_state_to_the_agent(runtime, tmp_path, annotation):
    """The whole state, however big (a 1 MB annotation takes more than one
    sendmsg on the agent's stream)."""
    agent = seccomp_agent(str(tmp_path / "agent.sock"), EXDEV)
    profile = dict(BASE_ALLOW, syscalls=[{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}],
                   listenerPath=str(tmp_path / "agent.sock"), listenerMetadata="from the test",
                   flags=["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"])

    def mutate(config):
        with_seccomp(profile)(config)
        config["mounts"].append({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"})
        if annotation:
            config["annotations"] = {"big": "b" * annotation}

    cid = runtime.new_id()
    proc = runtime("run", "-b", runtime.bundle(["sh", "-c", "mkdir /tmp/x 2>&1; echo status $?"],
                                               rootfs=runtime.rootfs, mutate=mutate), cid)
    assert "Invalid cross-device link" in proc.stdout and "status 1" in proc.stdout, proc.stdout + proc.stderr
    sent = agent["state"]
    assert sent["fds"] == ["seccompFd"] and sent["metadata"] == "from the test"
    assert sent["state"]["id"] == cid and sent["state"]["status"] == "creating"
    assert sent["pid"] == sent["state"]["pid"] > 0
    assert len(sent["state"].get("annotations", {}).get("big", "")) == annotation
    assert len(agent["fds"]) == 1 and agent["syscalls"]


def test_notify_without_a_listener_is_refused(runtime):
    profile = dict(BASE_ALLOW, syscalls=[{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}])
    cid = runtime.new_id()
    proc = runtime("create", "-b", runtime.bundle(["true"], rootfs=runtime.rootfs, mutate=with_seccomp(profile)), cid)
    assert proc.returncode == 1 and "linux.seccomp.listenerPath" in proc.stderr


def test_an_agent_that_is_not_there_fails_create(runtime, tmp_path):
    profile = dict(BASE_ALLOW, syscalls=[{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}],
                   listenerPath=str(tmp_path / "nobody.sock"))
    cid = runtime.new_id()
    proc = runtime("create", "-b", runtime.bundle(["true"], rootfs=runtime.rootfs, mutate=with_seccomp(profile)), cid)
    assert proc.returncode == 1
    assert f"linux.seccomp.listenerPath {tmp_path / 'nobody.sock'}: no such file or directory" in proc.stderr


def test_features_report_seccomp(runtime):
    import json

    seccomp = json.loads(runtime("features", check=True).stdout)["linux"]["seccomp"]
    assert seccomp["enabled"] is True
    assert "SCMP_ACT_KILL_PROCESS" in seccomp["actions"] and "SCMP_CMP_MASKED_EQ" in seccomp["operators"]
    assert "SCMP_ACT_NOTIFY" in seccomp["actions"]


def test_every_flag_features_reports_loads(runtime):
    import json

    seccomp = json.loads(runtime("features", check=True).stdout)["linux"]["seccomp"]
    assert set(seccomp["supportedFlags"]) <= set(seccomp["knownFlags"])
    # WAIT_KILLABLE_RECV goes only with a notify listener (the notify test's setting).
    flags = [f for f in seccomp["supportedFlags"] if f != "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]
    profile = dict(BASE_ALLOW, flags=flags, syscalls=[{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO"}])
    out = run_probe(runtime, "busybox pwd 2>&1; true", mutate=with_seccomp(profile))
    assert "Operation not permitted" in out


@pytest.mark.parametrize("action, status", [("SCMP_ACT_TRAP", 159), ("SCMP_ACT_KILL", 159),
                                            ("SCMP_ACT_KILL_THREAD", 159), ("SCMP_ACT_LOG", 0),
                                            ("SCMP_ACT_TRACE", 1)])
def test_what_each_action_does_to_the_program(runtime, action, status):
    # SIGSYS (31) for TRAP without a handler and for the kills; LOG lets the call
    # through; TRACE without a tracer fails the call with ENOSYS.
    profile = dict(BASE_ALLOW, syscalls=[{"names": ["mkdir", "mkdirat"], "action": action}])

    def mutate(config):
        with_seccomp(profile)(config)
        config["mounts"].append({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"})

    out = run_probe(runtime, "sh -c 'mkdir /tmp/x' >/dev/null 2>&1; echo status $?", mutate=mutate)
    assert out.strip() == f"status {status}"
