"""Busybox-static bundles for the tests (and the README's demo).

A rootfs is busybox plus its applet links; a bundle is a directory with a
config.json (pyoci's default, adjusted by the test) whose root.path points
at a rootfs.  Used by tests/ and conformance/ alike.
"""
import json
import os
import shutil

# busybox-static's binary; a dynamic busybox would need the host's libc in the rootfs.
BUSYBOX = "/bin/busybox"
APPLETS = ("sh", "ls", "ps", "id", "hostname", "cat", "echo", "true", "false", "sleep", "env",
           "mount", "grep", "stat", "readlink", "touch", "mkdir", "wc", "head", "kill", "test",
           "pwd", "ulimit", "umask", "ip", "date", "uname", "domainname", "sysctl", "dd", "tr", "cut", "stty", "tty", "awk", "sort", "nc")


def find_busybox():
    if not os.path.exists(BUSYBOX):
        raise RuntimeError("busybox-static is not installed (apt-get install busybox-static)")
    return BUSYBOX


def make_rootfs(path):
    """A minimal rootfs at path: /bin/busybox and links, the usual mount points."""
    for d in ("bin", "proc", "sys", "dev", "etc", "tmp", "root", "usr/bin"):
        os.makedirs(os.path.join(path, d), exist_ok=True)
    shutil.copy(find_busybox(), os.path.join(path, "bin", "busybox"))
    for applet in APPLETS:
        link = os.path.join(path, "bin", applet)
        if not os.path.lexists(link):
            os.symlink("busybox", link)
    with open(os.path.join(path, "etc", "passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n")
    with open(os.path.join(path, "etc", "group"), "w") as f:
        f.write("root:x:0:\ntty:x:5:\nnobody:x:65534:\n")
    return path


def default_config(args, rootfs="rootfs", terminal=False):
    from pyoci.spec.default import default_config as base

    config = base()
    config["process"]["terminal"] = terminal
    config["process"]["args"] = list(args)
    config["root"]["path"] = rootfs
    return config


def write_bundle(path, config):
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    return path
