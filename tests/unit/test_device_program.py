"""pyoci.cgroups.device_program: linux.resources.devices as a cgroup v2
device program, run here by an evaluator of the eBPF instructions it uses,
for device accesses the rules allow and deny.  (The kernel's verdict is in
tests/integration/test_cgroup_v2.py.)"""
import pytest

from pyoci.cgroups.device_program import ACCESS, DEV_BLOCK, DEV_CHAR, in_force, parse_rule, program
from pyoci.core.errors import ConfigError


def run(code, kind, major, minor, access):
    """The program's return for an access ('r', 'w', 'm', or several) to a device."""
    ctx = {0: ((sum(ACCESS[a] for a in access) << 16) | (DEV_BLOCK if kind == "b" else DEV_CHAR)), 4: major, 8: minor}
    regs = [0] * 11
    pc = 0
    while True:
        op, regs_byte, off, imm = (code[pc * 8], code[pc * 8 + 1], int.from_bytes(code[pc * 8 + 2:pc * 8 + 4], "little", signed=True),
                                   int.from_bytes(code[pc * 8 + 4:pc * 8 + 8], "little", signed=True))
        dst, src = regs_byte & 0xF, regs_byte >> 4
        pc += 1
        if op == 0x61:
            assert src == 1, "loads come from the context"
            regs[dst] = ctx[off]
        elif op == 0x57:
            regs[dst] &= imm & 0xFFFFFFFFFFFFFFFF
        elif op == 0x77:
            regs[dst] >>= imm
        elif op == 0xB7:
            regs[dst] = imm
        elif op == 0xBF:
            regs[dst] = regs[src]
        elif op == 0x55:
            if regs[dst] != imm:
                pc += off
        elif op == 0x15:
            if regs[dst] == imm:
                pc += off
        elif op == 0x95:
            return regs[0]
        else:
            raise AssertionError(f"unexpected opcode {op:#x}")


DENY_ALL = {"allow": False, "access": "rwm"}


def test_nothing_allowed_is_denied():
    code = program([DENY_ALL])
    assert run(code, "c", 1, 3, "r") == 0
    assert run(program([]), "c", 1, 3, "r") == 0


def test_later_rules_override_earlier_ones():
    code = program([DENY_ALL, parse_rule("c 1:3 rwm"), {"allow": False, "type": "c", "major": 1, "minor": 3, "access": "w"}])
    assert run(code, "c", 1, 3, "r") == 1
    assert run(code, "c", 1, 3, "w") == 0, "the last rule denies writing"
    assert run(code, "c", 1, 3, "rw") == 0
    assert run(code, "c", 1, 5, "r") == 0


def test_an_access_is_decided_by_the_last_rule_that_names_it():
    code = program([DENY_ALL, {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "r"},
                    {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "w"}])
    assert run(code, "c", 1, 3, "rw") == 1  # r from one rule, w from the other
    assert run(code, "c", 1, 3, "rwm") == 0  # m from none


def test_access_type_and_wildcards():
    code = program([DENY_ALL, {"allow": True, "type": "c", "major": 136, "access": "rw"},
                    {"allow": True, "type": "b", "major": 8, "minor": 0, "access": "r"}])
    assert run(code, "c", 136, 7, "rw") == 1  # any minor
    assert run(code, "c", 136, 7, "m") == 0   # mknod is not in "rw"
    assert run(code, "b", 8, 0, "r") == 1
    assert run(code, "b", 8, 0, "w") == 0
    assert run(code, "c", 8, 0, "r") == 0     # a char device 8:0 is not the block device


def test_allow_all():
    code = program([{"allow": True, "access": "rwm"}])
    assert run(code, "b", 8, 16, "rwm") == 1


@pytest.mark.parametrize("rule, field", [
    ({"allow": True, "type": "x"}, "linux.resources.devices[0].type"),
    ({"allow": True, "type": "c", "access": "rx"}, "linux.resources.devices[0].access"),
])
def test_bad_rules_name_their_field(rule, field):
    with pytest.raises(ConfigError, match=field.replace(".", r"\.").replace("[", r"\[")):
        program([rule])


def test_in_force_drops_the_rules_a_rule_for_everything_overrides():
    start_over = [DENY_ALL, parse_rule("c 1:11 rwm")]
    before = [DENY_ALL, parse_rule("b 8:* rwm"), {"allow": False, "type": "c", "major": 1, "minor": 11}]
    assert in_force(before + start_over) == start_over
    # A rule for every device but not every access overrides nothing.
    partial = [{"allow": False, "access": "w"}]
    assert in_force(before + partial) == before + partial
    for kind, major, minor, access in (("b", 8, 0, "r"), ("c", 1, 11, "w"), ("c", 1, 3, "m")):
        assert (run(program(in_force(before + start_over)), kind, major, minor, access)
                == run(program(before + start_over), kind, major, minor, access))
