"""linux.seccomp through libseccomp: actions, errnoRet, argument
comparisons, unknown names skipped, and a filter that blocks what the
runtime needs (getcwd) still starting the container."""
import pytest

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


def test_notify_is_refused_with_a_clear_error(runtime):
    profile = dict(BASE_ALLOW, syscalls=[{"names": ["getcwd"], "action": "SCMP_ACT_NOTIFY"}],
                   listenerPath="/run/nowhere.sock")
    cid = runtime.new_id()
    proc = runtime("create", "-b", runtime.bundle(["true"], rootfs=runtime.rootfs, mutate=with_seccomp(profile)), cid)
    assert proc.returncode == 1 and "linux.seccomp" in proc.stderr and "not supported" in proc.stderr


def test_features_report_seccomp(runtime):
    import json

    seccomp = json.loads(runtime("features", check=True).stdout)["linux"]["seccomp"]
    assert seccomp["enabled"] is True
    assert "SCMP_ACT_KILL_PROCESS" in seccomp["actions"] and "SCMP_CMP_MASKED_EQ" in seccomp["operators"]
