"""/proc, read one way for every stage of create -> start -> delete: a
process's stat fields (its state, parent and start time), the cgroups of
this process, and a process's namespaces.  It imports nothing but posix:
state, kill and delete load it on every call.
"""
import posix  # not os: see pyoci.core.paths


def stat_fields(pid):
    """/proc/<pid>/stat's fields after comm (state first), or None if pid is gone."""
    try:
        fd = posix.open(f"/proc/{pid}/stat", posix.O_RDONLY | posix.O_CLOEXEC)
        try:
            stat = posix.read(fd, 4096)  # one read: the kernel writes it whole, ~300 bytes
        finally:
            posix.close(fd)
    except (FileNotFoundError, ProcessLookupError):
        return None
    # comm may hold spaces and parentheses: split after the last ')'.  As
    # text: the bytes methods would be more of the interpreter to page in.
    text = stat.decode(errors="replace")
    return text[text.rindex(")") + 2:].split()


def process_start_time(pid):
    """(start time in clock ticks, state letter) of pid, or None if it is gone."""
    fields = stat_fields(pid)
    return None if fields is None else (int(fields[19]), fields[0])


def parent_pid(pid):
    """The parent of pid, or None if it is gone."""
    fields = stat_fields(pid)
    return None if fields is None else int(fields[1])


def alive(pid):
    """Whether pid exists and has not exited (a zombie has)."""
    fields = stat_fields(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def own_cgroup_lines():
    """This process's /proc/self/cgroup: (controllers as written, path) per
    hierarchy; controllers is "" for cgroup2."""
    with open("/proc/self/cgroup") as f:
        return [tuple(line.rstrip("\n").split(":", 2)[1:]) for line in f]


def namespace_inode(pid, kind):
    """The inode of pid's namespace of kind ("pid", "net", ...; pid may be
    "self"), which names it; None once pid is gone."""
    try:
        return posix.stat(f"/proc/{pid}/ns/{kind}").st_ino
    except OSError:
        return None


def open_namespace(pid, kind):
    """A descriptor of pid's namespace of kind, for setns."""
    return posix.open(f"/proc/{pid}/ns/{kind}", posix.O_RDONLY | posix.O_CLOEXEC)
