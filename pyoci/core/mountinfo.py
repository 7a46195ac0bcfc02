"""/proc/self/mountinfo, read one way for every command that needs it.

Where it sits: `create` finds the cgroup hierarchies here (pyoci.cgroups),
the mount a rootfs with shared propagation sits on (pyoci.plan.compile), and,
for a container without a mount namespace of its own, which mounts were under
its rootfs before the init ran (pyoci.runtime.hostmounts); `delete`, or a
failed `create`, reads it again to take down the ones made since.  `start`
does not read it.

A line (proc(5)) is fields split by single spaces: mount id, parent id,
major:minor, root, mount point, mount options, any number of optional
fields, "-", filesystem type, source, super options.  In a path or a source
the kernel writes a space, tab, newline or backslash as a backslash and three
octal digits, and every other byte as it is, UTF-8 or not.  So the escapes
are undone on bytes, and the bytes are then read as os.fsdecode reads a name
(the filesystem encoding, surrogateescape): a name that is not UTF-8
survives, and encoded back the same way it is the path the kernel wrote.

Imports only what the interpreter has loaded already: `delete` pays for it.
"""
import sys

_ENCODING = sys.getfilesystemencoding()
_ERRORS = sys.getfilesystemencodeerrors()
_OCTAL = b"01234567"


class Mount:
    """One line of mountinfo; paths and names as str (os.fsdecode's)."""
    __slots__ = ("mount_id", "parent_id", "root", "point", "optional", "fstype", "source", "super_options")

    def __init__(self, mount_id, parent_id, root, point, optional, fstype, source, super_options):
        self.mount_id = mount_id
        self.parent_id = parent_id
        self.root = root
        self.point = point
        self.optional = optional
        self.fstype = fstype
        self.source = source
        self.super_options = super_options


def _decode(field):
    """A field with escapes in it, undone byte-wise, as str."""
    first, *rest = field.split(b"\\")
    out = [first]
    for part in rest:
        # The kernel escapes a backslash too, so each one starts an escape;
        # anything else is kept as it stands rather than guessed at.
        if len(part) >= 3 and not part[:3].strip(_OCTAL) and part[0] in b"0123":
            out.append(bytes((int(part[:3], 8),)) + part[3:])
        else:
            out.append(b"\\" + part)
    return b"".join(out).decode(_ENCODING, _ERRORS)


def _mount(line):
    if b"\\" not in line:
        # Most lines: nothing escaped, so one decode serves every field (a
        # space is one byte in the filesystem encoding, never part of another).
        fields = line.decode(_ENCODING, _ERRORS).split(" ")
        sep = fields.index("-", 6)
        super_options = fields[sep + 3].split(",")
    else:
        raw = line.split(b" ")
        sep = raw.index(b"-", 6)
        fields = [_decode(f) for f in raw]
        # Split first: an option's own commas are escaped (seq_show_option).
        super_options = [_decode(o) for o in raw[sep + 3].split(b",")]
    # Optional fields are tag[:value]; none is "-", and nothing before them can be.
    return Mount(int(fields[0]), int(fields[1]), fields[3], fields[4], tuple(fields[6:sep]),
                 fields[sep + 1], fields[sep + 2], tuple(super_options))


def parse(data):
    """The Mounts of mountinfo's bytes, in the kernel's order."""
    return [_mount(line) for line in data.split(b"\n") if line]


def read():
    """This process's mounts (its mount namespace's, as its root sees them)."""
    with open("/proc/self/mountinfo", "rb") as f:
        return parse(f.read())
