"""pyoci.core.mountinfo: the one reader of /proc/self/mountinfo.

The lines here are as the kernel writes them (proc(5), fs/proc_namespace.c):
fields split by single spaces, a space, tab, newline or backslash inside a
path or source written as a backslash and three octal digits, every other
byte (UTF-8 or not) written as it is."""
import os
import subprocess
import sys

import pyoci
from pyoci.core import mountinfo

SITE_PACKAGES = os.path.dirname(os.path.dirname(os.path.abspath(pyoci.__file__)))


def one(line):
    (mount,) = mountinfo.parse(line + b"\n")
    return mount


def test_the_fields_of_a_plain_line():
    m = one(b"36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue")
    assert (m.mount_id, m.parent_id, m.root, m.point) == (36, 35, "/mnt1", "/mnt2")
    assert m.optional == ("master:1",)
    assert (m.fstype, m.source, m.super_options) == ("ext3", "/dev/root", ("rw", "errors=continue"))


def test_the_kernels_octal_escapes_are_decoded():
    m = one(rb"40 1 0:50 /a\011b /x\040y\012z\134w rw - tmpfs tmp\040fs rw")
    assert m.root == "/a\tb"
    assert m.point == "/x y\nz\\w"
    assert m.source == "tmp fs"


def test_an_escaped_backslash_does_not_start_another_escape():
    # a directory literally named `\040`: the kernel writes its backslash as \134
    assert one(rb"40 1 0:50 / /mnt/\134040 rw - tmpfs tmpfs rw").point == "/mnt/\\040"


def test_utf8_names_are_decoded_as_the_filesystem_encoding_does():
    point = "/tmp/café ü/rootfs"
    line = b"40 1 0:50 / " + os.fsencode(point).replace(b" ", rb"\040") + b" rw - tmpfs tmpfs rw"
    assert one(line).point == point


def test_escapes_are_bytes_not_code_points():
    # \303\251 is é in UTF-8: two bytes, one character
    assert one(rb"40 1 0:50 / /tmp/caf\303\251 rw - tmpfs tmpfs rw").point == "/tmp/café"


def test_names_that_are_not_utf8_survive_and_round_trip():
    raw = b"/tmp/caf\xe9 \xff/rootfs"
    m = one(b"40 1 0:50 / " + raw.replace(b" ", rb"\040") + b" rw - tmpfs tmpfs rw")
    assert m.point == os.fsdecode(raw)
    assert os.fsencode(m.point) == raw  # what a syscall is handed is what the kernel wrote


def test_any_number_of_optional_fields():
    lines = [b"1 0 0:1 / / rw - ext4 /dev/sda rw",
             b"2 1 0:2 / /a rw shared:1 - tmpfs a rw",
             b"3 1 0:3 / /b rw,nosuid shared:2 master:1 propagate_from:1 - tmpfs b ro,size=4k",
             b"4 1 0:4 / /c rw unbindable - tmpfs c rw"]
    found = mountinfo.parse(b"\n".join(lines) + b"\n")
    assert [m.optional for m in found] == [(), ("shared:1",), ("shared:2", "master:1", "propagate_from:1"),
                                           ("unbindable",)]
    assert [(m.point, m.fstype, m.source) for m in found] == [
        ("/", "ext4", "/dev/sda"), ("/a", "tmpfs", "a"), ("/b", "tmpfs", "b"), ("/c", "tmpfs", "c")]
    assert found[2].super_options == ("ro", "size=4k")


def test_the_separator_is_a_field_of_its_own():
    # " - " inside a path is escaped and splits nothing; a source named "-" is a source
    m = one(rb"40 1 0:50 / /mnt/a\040-\040b rw shared:3 - tmpfs - rw")
    assert (m.point, m.optional, m.fstype, m.source, m.super_options) == (
        "/mnt/a - b", ("shared:3",), "tmpfs", "-", ("rw",))


def test_an_empty_source_keeps_the_fields_after_it_in_place():
    # mount -t tmpfs "" /mnt: two spaces in a row, not one separator
    m = one(b"40 1 0:50 / /mnt rw - tmpfs  rw,size=1024k")
    assert (m.fstype, m.source, m.super_options) == ("tmpfs", "", ("rw", "size=1024k"))


def test_an_escaped_comma_stays_inside_its_super_option():
    # seq_show_option escapes the commas of an option's value
    m = one(rb"40 1 0:50 / /merged rw - overlay overlay rw,lowerdir=/l\054ow,upperdir=/u")
    assert m.super_options == ("rw", "lowerdir=/l,ow", "upperdir=/u")


def test_no_lines_no_mounts():
    assert mountinfo.parse(b"") == []


def test_this_processs_own_mountinfo_has_its_root():
    found = mountinfo.read()
    assert any(m.point == "/" for m in found)
    assert len({m.mount_id for m in found}) == len(found)


def test_importing_it_costs_no_general_purpose_module():
    """delete reads mountinfo for a container without a mount namespace; it
    must not bring os or re into a command that otherwise avoids them."""
    code = (f"import sys\nsys.path.append({SITE_PACKAGES!r})\nbefore = set(sys.modules)\n"
            "import pyoci.core.mountinfo\nprint(' '.join(sorted(set(sys.modules) - before)))")
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, check=True)
    loaded = set(proc.stdout.split())
    assert "pyoci.core.mountinfo" in loaded
    assert not loaded & {"os", "re", "enum", "json", "functools"}, loaded
