"""pyoci.security.seccomp against the BPF libseccomp exports for it: the
program is run here, by a classic-BPF evaluator over struct seccomp_data,
for chosen syscalls and arguments, and must return the action the profile
asks for.  (The kernel's view of a loaded filter is in the integration
tests.)"""
import struct

import pytest

from pyoci.core.errors import ConfigError
from pyoci.security.seccomp import ACTIONS, NEW_LISTENER, compile_profile

AUDIT_ARCH_X86_64, AUDIT_ARCH_I386 = 0xC000003E, 0x40000003
NR = {"getcwd": 79, "mkdir": 83, "personality": 135, "chmod": 90, "clone": 56}
ERRNO, ALLOW, KILL_PROCESS, NOTIFY = (ACTIONS[a] for a in ("SCMP_ACT_ERRNO", "SCMP_ACT_ALLOW",
                                                            "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_NOTIFY"))


def run_bpf(program, nr, args=(), arch=AUDIT_ARCH_X86_64):
    """The 32-bit return value of program for the syscall: a classic BPF
    machine (the subset seccomp allows) over struct seccomp_data."""
    data = struct.pack("<iIQ6Q", nr, arch, 0, *(list(args) + [0] * (6 - len(args))))
    insns = [struct.unpack_from("<HBBI", program, i) for i in range(0, len(program), 8)]
    a = x = 0
    mem = [0] * 16
    pc = 0
    while True:
        code, jt, jf, k = insns[pc]
        pc += 1
        cls = code & 0x07
        if cls == 0x00:  # BPF_LD
            mode = code & 0xE0
            a = struct.unpack_from("<I", data, k)[0] if mode == 0x20 else (k if mode == 0x00 else mem[k])
        elif cls == 0x01:  # BPF_LDX
            x = k if code & 0xE0 == 0x00 else mem[k]
        elif cls == 0x02:  # BPF_ST
            mem[k] = a
        elif cls == 0x03:  # BPF_STX
            mem[k] = x
        elif cls == 0x04:  # BPF_ALU
            operand = x if code & 0x08 else k
            op = code & 0xF0
            a = {0x00: a + operand, 0x10: a - operand, 0x20: a * operand, 0x40: a | operand,
                 0x50: a & operand, 0x60: a << operand, 0x70: a >> operand, 0xA0: a ^ operand,
                 0x80: (-a)}[op] & 0xFFFFFFFF
        elif cls == 0x05:  # BPF_JMP
            op = code & 0xF0
            operand = x if code & 0x08 else k
            if op == 0x00:
                pc += k
                continue
            taken = {0x10: a == operand, 0x20: a > operand, 0x30: a >= operand, 0x40: bool(a & operand)}[op]
            pc += jt if taken else jf
        elif cls == 0x06:  # BPF_RET
            return a if code & 0x18 == 0x10 else k
        elif cls == 0x07:  # BPF_MISC
            if code & 0xF8 == 0x00:
                x = a
            else:
                a = x


def compiled(**profile):
    profile.setdefault("defaultAction", "SCMP_ACT_ALLOW")
    return compile_profile(profile)


def test_default_action_and_errno_ret():
    program, flags = compiled(syscalls=[{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
                                        {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}])
    assert flags == 0
    assert run_bpf(program, NR["getcwd"]) == ERRNO | 38
    assert run_bpf(program, NR["mkdir"]) == ERRNO | 1  # EPERM unless errnoRet says otherwise
    assert run_bpf(program, NR["chmod"]) == ALLOW


def test_a_default_that_denies_with_an_allow_list():
    program, _ = compiled(defaultAction="SCMP_ACT_ERRNO", defaultErrnoRet=38,
                          syscalls=[{"names": ["getcwd"], "action": "SCMP_ACT_ALLOW"}])
    assert run_bpf(program, NR["getcwd"]) == ALLOW
    assert run_bpf(program, NR["mkdir"]) == ERRNO | 38


@pytest.mark.parametrize("op, value, value_two, matching, other", [
    ("SCMP_CMP_EQ", 8, 0, 8, 9),
    ("SCMP_CMP_NE", 8, 0, 9, 8),
    ("SCMP_CMP_LT", 8, 0, 7, 8),
    ("SCMP_CMP_LE", 8, 0, 8, 9),
    ("SCMP_CMP_GT", 8, 0, 9, 8),
    ("SCMP_CMP_GE", 8, 0, 8, 7),
    ("SCMP_CMP_MASKED_EQ", 0o4000, 0o4000, 0o4755, 0o755),
    ("SCMP_CMP_EQ", 1 << 40, 0, 1 << 40, 1 << 41),  # both 32-bit halves are compared
])
def test_argument_comparisons(op, value, value_two, matching, other):
    arg = {"index": 1, "value": value, "op": op}
    if op == "SCMP_CMP_MASKED_EQ":
        arg["valueTwo"] = value_two
    program, _ = compiled(syscalls=[{"names": ["chmod"], "action": "SCMP_ACT_ERRNO", "args": [arg]}])
    assert run_bpf(program, NR["chmod"], (0, matching)) == ERRNO | 1
    assert run_bpf(program, NR["chmod"], (0, other)) == ALLOW


def test_two_comparisons_of_one_argument_are_either_rule():
    program, _ = compiled(syscalls=[{"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [
        {"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}],
        defaultAction="SCMP_ACT_ERRNO")
    assert run_bpf(program, NR["personality"], (0,)) == ALLOW
    assert run_bpf(program, NR["personality"], (8,)) == ALLOW
    assert run_bpf(program, NR["personality"], (9,)) == ERRNO | 1


def test_other_architectures_are_matched_or_killed():
    program, _ = compiled(architectures=["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
                          syscalls=[{"names": ["mkdir"], "action": "SCMP_ACT_KILL_PROCESS"}])
    assert run_bpf(program, NR["mkdir"]) == KILL_PROCESS
    assert run_bpf(program, 39, arch=AUDIT_ARCH_I386) == KILL_PROCESS  # i386 mkdir
    only_native, _ = compiled(syscalls=[{"names": ["mkdir"], "action": "SCMP_ACT_KILL_PROCESS"}])
    # An architecture the filter was not built for is refused outright (SECCOMP_RET_KILL_THREAD, 0).
    assert run_bpf(only_native, 39, arch=AUDIT_ARCH_I386) == 0


@pytest.mark.parametrize("action", sorted(set(ACTIONS) - {"SCMP_ACT_NOTIFY"}))
def test_every_action_is_what_the_filter_returns(action):
    profile = {"syscalls": [{"names": ["mkdir"], "action": action}]}
    if action == "SCMP_ACT_ALLOW":
        profile["defaultAction"] = "SCMP_ACT_ERRNO"
    program, _ = compiled(**profile)
    errno = {"SCMP_ACT_ERRNO": 1}.get(action, 0)  # EPERM unless errnoRet says otherwise; TRACE's message 0
    assert run_bpf(program, NR["mkdir"]) == ACTIONS[action] | errno


def test_unknown_syscall_names_are_skipped():
    program, _ = compiled(syscalls=[{"names": ["no_such_syscall", "mkdir"], "action": "SCMP_ACT_ERRNO"}])
    assert run_bpf(program, NR["mkdir"]) == ERRNO | 1


def test_notify_asks_for_a_listener_fd():
    program, flags = compiled(syscalls=[{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}],
                              listenerPath="/run/agent.sock", flags=["SECCOMP_FILTER_FLAG_LOG"])
    assert flags == NEW_LISTENER | 2
    assert run_bpf(program, NR["mkdir"]) == NOTIFY


@pytest.mark.parametrize("profile, field", [
    ({"syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}, "linux.seccomp.listenerPath"),
    ({"flags": ["SECCOMP_FILTER_FLAG_NOPE"]}, "linux.seccomp.flags[0]"),
    ({"syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOPE"}]}, "linux.seccomp.syscalls[0].action"),
    ({"syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO",
                    "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_NOPE"}]}]}, "linux.seccomp.syscalls[0].args[0].op"),
    ({"syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_KILL_PROCESS", "errnoRet": 1}]},
     "linux.seccomp.syscalls[0].errnoRet"),
    ({"defaultAction": "SCMP_ACT_ALLOW", "defaultErrnoRet": 1}, "linux.seccomp.defaultErrnoRet"),
])
def test_what_cannot_be_compiled_names_its_field(profile, field):
    with pytest.raises(ConfigError, match=field.replace(".", r"\.").replace("[", r"\[")):
        compiled(**profile)


def test_a_program_longer_than_the_kernel_loads_is_refused():
    # One comparison per rule: 5000 rules are some 5000 instructions.
    rules = [{"names": ["write"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": v, "op": "SCMP_CMP_EQ"}]}
             for v in range(1000, 6000)]
    with pytest.raises(ConfigError, match=r"linux.seccomp: the profile compiles to \d+ BPF instructions; "
                                          r"the kernel loads at most 4096"):
        compiled(syscalls=rules)
