"""Launch plan data: what `create` hands the C shim.

A Plan is the namespace work plus a flat list of Steps; each Step is one
primitive the child performs in order, with a label naming the config field
it came from so a failure reads "mounts[3] /proc: mount: operation not
permitted".  Plain data: unit tests inspect it without root, and
`create --dry-run` prints it.  The operations and their fields are
pyoci.plan.ops's.
"""
from pyoci.plan import ops


class Step:
    """One operation of pyoci.plan.ops with its fields by name; a field not
    given is 0 (a number) or absent (NULL)."""

    __slots__ = ("op", "label", "fields")

    def __init__(self, op, label, **fields):
        unknown = set(fields) - set(ops.OPS[op])
        if unknown:
            raise TypeError(f"{op} has no field {', '.join(sorted(unknown))}")
        self.op = op
        self.label = label
        self.fields = fields

    def get(self, name):
        """The value of field name (KeyError: op has no such field)."""
        kind = ops.OPS[self.op][name]
        return self.fields.get(name, 0 if kind == ops.INT else None)

    def __getattr__(self, name):
        if name in Step.__slots__:  # not set yet (a copy being made): no field lookup without op
            raise AttributeError(name)
        try:
            return self.get(name)
        except KeyError:
            raise AttributeError(f"{self.op} has no field {name}") from None

    def describe(self):
        parts = [self.op]
        for name, value in self.fields.items():
            if value is None:
                continue
            if isinstance(value, bytes):
                value = f"<{len(value)} bytes>"
            elif isinstance(value, int):
                value = hex(value) if value > 9 else str(value)
            else:
                value = repr(value)
            parts.append(f"{name}={value}")
        return " ".join(parts) + "  # " + self.label

    def __repr__(self):
        return f"Step({self.describe()})"


class Plan:
    """Everything the child needs, decided before clone()."""

    def __init__(self):
        self.clone_flags = 0
        self.unshare_flags = 0
        self.joins = []          # (fd, CLONE_NEW* type), user namespace first
        self.join_paths = []     # (type name, path) for messages and dry-run
        self.new_userns = False
        self.cgroupns_late = False
        self.own_mount_ns = True  # False: the container mounts in the host's namespace
        self.fork_after = False
        self.timens_offsets = None
        self.uid_mappings = []
        self.gid_mappings = []
        self.keep_fds = 0
        self.steps = []
        self.oom_score_adj = None

    def add(self, op, label, **fields):
        self.steps.append(Step(op, label, **fields))

    def describe(self):
        lines = [
            f"clone_flags={self.clone_flags:#x} unshare_flags={self.unshare_flags:#x} "
            f"fork_after={int(self.fork_after)} new_userns={int(self.new_userns)} keep_fds={self.keep_fds}"
        ]
        lines += [f"join {t} {p}" for t, p in self.join_paths]
        lines += [f"{i:3d} {s.describe()}" for i, s in enumerate(self.steps)]
        return "\n".join(lines)
