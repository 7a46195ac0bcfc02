"""linux.resources.devices on cgroup v2 (create, update): the device rules
as a BPF_PROG_TYPE_CGROUP_DEVICE program, attached to the container's
cgroup by the shim (pyoci/_native/devices.c); an update's program takes
the place of the one before.

The kernel runs the program on every open or mknod of a device node with
struct bpf_cgroup_dev_ctx {u32 access_type; u32 major; u32 minor}, where
access_type is (access << 16) | type; a return of 1 allows, 0 denies.

The rules are v1's list, in order, each overriding the ones before for the
accesses it names: an access is granted if the last rule that matches the
device and names that access allows it.  So the program tests the rules
last first, keeping in r3 the accesses asked for and not yet decided: a
matching allow rule takes its accesses out (none left: allow), a matching
deny rule that names one of them denies.  Accesses no rule decided are
denied.
"""
from pyoci._constants import (BPF_ALU64, BPF_AND, BPF_DEVCG_ACC_MKNOD, BPF_DEVCG_ACC_READ, BPF_DEVCG_ACC_WRITE,
                              BPF_DEVCG_DEV_BLOCK as DEV_BLOCK, BPF_DEVCG_DEV_CHAR as DEV_CHAR, BPF_EXIT, BPF_JEQ,
                              BPF_JMP, BPF_JNE, BPF_K, BPF_LDX, BPF_MEM, BPF_MOV, BPF_RSH, BPF_W, BPF_X)
from pyoci.core.errors import ConfigError

ACCESS = {"m": BPF_DEVCG_ACC_MKNOD, "r": BPF_DEVCG_ACC_READ, "w": BPF_DEVCG_ACC_WRITE}
ALL_ACCESS = BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE

# eBPF opcodes (class | size/op | source)
LDX_W = BPF_LDX | BPF_W | BPF_MEM    # dst = *(u32 *)(src + off)
AND_K = BPF_ALU64 | BPF_AND | BPF_K  # dst &= imm
RSH_K = BPF_ALU64 | BPF_RSH | BPF_K  # dst >>= imm
MOV_K = BPF_ALU64 | BPF_MOV | BPF_K  # dst = imm
MOV_X = BPF_ALU64 | BPF_MOV | BPF_X  # dst = src
JEQ_K = BPF_JMP | BPF_JEQ | BPF_K    # if dst == imm: pc += off
JNE_K = BPF_JMP | BPF_JNE | BPF_K    # if dst != imm: pc += off
EXIT = BPF_JMP | BPF_EXIT


def insn(code, dst=0, src=0, off=0, imm=0):
    """One struct bpf_insn: u8 code, u8 dst:4 src:4, s16 off, s32 imm."""
    return (bytes((code, (src << 4) | dst)) + off.to_bytes(2, "little", signed=True)
            + imm.to_bytes(4, "little", signed=True))


def parse_rule(text):
    """'c 1:3 rwm' (the form of resources.DEFAULT_ALLOWED_DEVICES) as an allow rule."""
    kind, numbers, access = text.split()
    major, minor = (-1 if n == "*" else int(n) for n in numbers.split(":"))
    return {"allow": True, "type": kind, "major": major, "minor": minor, "access": access}


def _rule_block(rule, field):
    """Instructions that apply one rule to the accesses still undecided (r3)
    when it matches the device, and go on to the next block otherwise."""
    kind = rule.get("type", "a")
    access = rule.get("access", "rwm") or "rwm"
    if kind not in ("a", "c", "u", "b"):
        raise ConfigError(f"{field}.type: {kind!r} is not a, b, c or u")
    mask = 0
    for letter in access:
        if letter not in ACCESS:
            raise ConfigError(f"{field}.access: {access!r} may hold only r, w and m")
        mask |= ACCESS[letter]
    matches = []  # (register, value) the device must have
    if kind != "a":
        matches.append((2, DEV_BLOCK if kind == "b" else DEV_CHAR))
        matches += [(register, rule[key]) for register, key in ((4, "major"), (5, "minor"))
                    if rule.get(key) not in (None, -1)]
    if rule["allow"]:
        # r3 &= ~mask; if r3 != 0: on to the next rule; else allow
        tail = [insn(AND_K, 3, imm=ALL_ACCESS & ~mask), insn(JNE_K, 3, off=2, imm=0),
                insn(MOV_K, 0, imm=1), insn(EXIT)]
    else:
        # if r3 & mask == 0: on to the next rule; else deny
        tail = [insn(MOV_X, 1, 3), insn(AND_K, 1, imm=mask), insn(JEQ_K, 1, off=2, imm=0),
                insn(MOV_K, 0, imm=0), insn(EXIT)]
    length = len(matches) + len(tail)
    return [insn(JNE_K, register, off=length - i - 1, imm=value)
            for i, (register, value) in enumerate(matches)] + tail


def program(rules, field="linux.resources.devices"):
    """The program's instructions, as bytes, for rules (dicts as in the spec)."""
    code = [
        insn(LDX_W, 2, 1, 0), insn(AND_K, 2, imm=0xFFFF),   # r2 = type
        insn(LDX_W, 3, 1, 0), insn(RSH_K, 3, imm=16),        # r3 = access
        insn(LDX_W, 4, 1, 4),                                # r4 = major
        insn(LDX_W, 5, 1, 8),                                # r5 = minor
    ]
    for i in reversed(range(len(rules))):
        code += _rule_block(rules[i], f"{field}[{i}]")
    code += [insn(MOV_K, 0, imm=0), insn(EXIT)]
    return b"".join(code)


def in_force(rules):
    """rules less those a later rule for every device and access overrides
    (one that starts over, as an engine's update that sends the whole list
    does): what update records, so that its list does not grow with each."""
    start = 0
    for i, rule in enumerate(rules):
        if rule.get("type", "a") == "a" and set(rule.get("access") or "rwm") == set("rwm"):
            start = i
    return rules[start:]


def attach(cgroup_dir, rules, replacing=None, sole=False):
    """Load the program for rules and attach it to cgroup_dir, in place of
    the program of id replacing (update: the one create or the last update
    attached) where that is attached there; sole (a cgroup pyoci made): in
    place of every other one there, so that one an update killed before it
    recorded its id does not stay.  Returns the new program's id."""
    from pyoci.launch.native import attach_device_program

    result = attach_device_program(cgroup_dir, program(rules), replacing or 0, sole)
    if result < 0:
        import posix

        raise ConfigError(f"linux.resources.devices: loading the cgroup v2 device program: {posix.strerror(-result).lower()}")
    return result
