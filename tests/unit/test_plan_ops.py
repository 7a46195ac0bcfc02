"""The op table (pyoci.plan.ops): every field of every operation reaches the
C struct where the generated accessor reads it."""
import re

import pytest

from pyoci.plan import ops
from pyoci.plan.steps import Step


def sample_values(op):
    """A value for every field of op, no two alike."""
    values = {}
    for i, (name, kind) in enumerate(ops.OPS[op].items(), 1):
        values[name] = {
            ops.INT: 1000 + i, ops.FD: 100 + i, ops.STR: f"/{op}/{name}", ops.BYTES: bytes([i]) * (i + 3),
            ops.GIDS: [i, i + 1, i + 2], ops.ARGV: [f"{op}-arg", name], ops.ENVP: [f"{name}={i}"],
        }[kind]
    return values


def strings(ffi, vector):
    found = []
    while vector[len(found)] != ffi.NULL:
        found.append(ffi.string(vector[len(found)]).decode())
    return found


def read_back(ffi, c, op, name, sent):
    """The field's value out of the packed struct, from the slot its accessor names."""
    kind = ops.OPS[op][name]
    accessor = re.fullmatch(r"\((?:\([^()]*\))*\(st\)->(n|s|argv|envp)(?:\[(\d)\])?\)", ops.c_accessor(op, name))
    member, index = accessor.group(1), accessor.group(2)
    value = getattr(c, member) if index is None else getattr(c, member)[int(index)]
    if kind in (ops.INT, ops.FD):
        return value
    if kind == ops.STR:
        return ffi.string(value).decode()
    if kind == ops.BYTES:
        return ffi.buffer(value, len(sent))[:]
    if kind == ops.GIDS:
        return list(ffi.cast("unsigned int *", value)[0:len(sent)])
    return strings(ffi, value)


@pytest.mark.parametrize("op", list(ops.OPS))
def test_every_field_round_trips_through_the_c_struct(op):
    native = pytest.importorskip("pyoci.launch.native", reason="the C shim is not built")
    ffi = native.ffi
    values = sample_values(op)
    fds = {name: values.pop(name) for name, kind in ops.OPS[op].items() if kind == ops.FD}
    step = Step(op, f"{op} label", **values)
    c = ffi.new("struct pyoci_step *")
    packer = native._Packer()
    native.pack_step(c, step, packer, **fds)
    assert c.op == ops.CODES[op] == getattr(native.lib, "PYOCI_OP_" + op)
    assert ffi.string(c.label).decode() == f"{op} label"
    for name, sent in dict(values, **fds).items():
        assert read_back(ffi, c, op, name, sent) == sent, name


def test_fields_not_given_are_zero_or_null():
    native = pytest.importorskip("pyoci.launch.native", reason="the C shim is not built")
    c = native.ffi.new("struct pyoci_step *")
    native.pack_step(c, Step("HOOK", "hook"), native._Packer())
    assert c.s[0] == c.argv == c.envp == native.ffi.NULL and c.n[0] == 0


def test_the_compiled_enum_is_the_table():
    native = pytest.importorskip("pyoci.launch.native", reason="the C shim is not built")
    assert {name: getattr(native.lib, "PYOCI_OP_" + name) for name in ops.OPS} == ops.CODES


def test_the_header_has_an_accessor_per_field():
    header = ops.c_header()
    for op, fields in ops.OPS.items():
        assert f"PYOCI_OP_{op} = {ops.CODES[op]}" in header
        for name in fields:
            assert f"#define OP_{op}_{name.upper()}(st) {ops.c_accessor(op, name)}\n" in header


def test_a_table_too_wide_for_the_struct_is_refused():
    with pytest.raises(ValueError, match="more fields"):
        ops._slots({f"f{i}": ops.INT for i in range(ops.NUMBERS + 1)})


def test_unknown_field_is_refused():
    with pytest.raises(TypeError, match="CHDIR has no field dest"):
        Step("CHDIR", "process.cwd", dest="/")
    with pytest.raises(AttributeError):
        Step("CHDIR", "process.cwd").dest
