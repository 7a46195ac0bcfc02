"""Launch plan data: what `create` hands the C shim.

A Plan is the namespace work plus a flat list of Steps; each Step is one
primitive the child performs in order, with a label naming the config field
it came from so a failure reads "mounts[3] /proc: mount: operation not
permitted".  Plain data: unit tests inspect it without root, and
`create --dry-run` prints it.
"""


class Step:
    __slots__ = ("op", "label", "n", "s", "argv", "envp", "gids")

    def __init__(self, op, label, n=(), s=(), argv=None, envp=None, gids=None):
        self.op = op
        self.label = label
        self.n = tuple(n)
        self.s = tuple(s)
        self.argv = argv
        self.envp = envp
        self.gids = gids

    def describe(self):
        parts = [self.op]
        parts += [repr(v) for v in self.s if v is not None and not isinstance(v, bytes)]
        parts += [hex(v) if v > 9 else str(v) for v in self.n]
        if self.argv is not None:
            parts.append(repr(self.argv))
        if self.gids is not None:
            parts.append(repr(self.gids))
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

    def add(self, op, label, **kw):
        self.steps.append(Step(op, label, **kw))

    def describe(self):
        lines = [
            f"clone_flags={self.clone_flags:#x} unshare_flags={self.unshare_flags:#x} "
            f"fork_after={int(self.fork_after)} new_userns={int(self.new_userns)} keep_fds={self.keep_fds}"
        ]
        lines += [f"join {t} {p}" for t, p in self.join_paths]
        lines += [f"{i:3d} {s.describe()}" for i, s in enumerate(self.steps)]
        return "\n".join(lines)
