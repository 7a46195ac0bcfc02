"""Known ways out of a container, each tried from inside a real one; every
attempt must fail and leave the host as it was.

Run them against another runtime with PYOCI_RUNTIME=runc (see conftest):
the closing notes compare the two.
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import uuid

import pytest

from bundle import default_config, make_rootfs, write_bundle


@pytest.fixture
def own_rootfs(tmp_path):
    """A rootfs of the test's own, to plant symlinks and scripts in."""
    return make_rootfs(str(tmp_path / "rootfs"))


@pytest.fixture
def host_dir():
    """A host directory outside every rootfs, named uniquely, for an attack to aim at."""
    path = tempfile.mkdtemp(prefix="pyoci-escape-target-")
    with open(os.path.join(path, "host-marker"), "w") as f:
        f.write("the host's\n")
    yield path
    shutil.rmtree(path)


def bundle_with(runtime, rootfs, args, mutate=None):
    config = default_config(args, rootfs)
    if mutate:
        mutate(config)
    return write_bundle(os.path.join(runtime.tmp, uuid.uuid4().hex[:8]), config)


def host_mounts_under(path):
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4] for line in f if line.split()[4].startswith(path)]


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


# -- CVE-2019-5736: the runtime's own binary through /proc/<pid>/exe ----------

@pytest.mark.parametrize("how", ["args", "script"])
def test_the_init_cannot_exec_the_runtimes_own_binary(runtime, own_rootfs, how):
    """The init is a copy of the runtime until it execs the user's program:
    executing its /proc/self/exe (directly, or as a script's interpreter as
    in the original exploit) would run the host's binary in the container,
    which could then keep a descriptor to it and write it once it is idle."""
    interpreter = os.path.realpath(sys.executable)
    before = sha256(interpreter)
    if how == "script":
        with open(os.path.join(own_rootfs, "evil"), "w") as f:
            f.write("#!/proc/self/exe\n")
        os.chmod(os.path.join(own_rootfs, "evil"), 0o755)
        args = ["/evil"]
    else:
        args = ["/proc/self/exe", "--version"]
    proc = runtime("run", "-b", bundle_with(runtime, own_rootfs, args), runtime.new_id())
    assert proc.returncode != 0 and "Python" not in proc.stdout + proc.stderr
    assert "no such file or directory" in proc.stderr.lower()
    assert sha256(interpreter) == before


def test_exec_cannot_run_the_runtimes_own_binary(runtime):
    """The same through `exec`: its process is a copy of the runtime until it
    execs, joined to the container's namespaces (and non-dumpable, as the
    init is, while it is)."""
    interpreter = os.path.realpath(sys.executable)
    before = sha256(interpreter)
    cid = runtime.new_id()
    runtime("run", "-d", "-b", runtime.bundle(["sleep", "1000"], rootfs=runtime.rootfs), cid, check=True)
    proc = runtime("exec", cid, "/proc/self/exe", "--version")
    assert proc.returncode != 0 and "Python" not in proc.stdout + proc.stderr
    assert "no such file or directory" in proc.stderr.lower()
    assert sha256(interpreter) == before


def test_the_waiting_init_is_out_of_reach_of_the_containers_processes(runtime, host_dir):
    """Another container sharing the pid namespace sees the init that waits
    for start; as the same user it could read its memory (/proc/<pid>/mem,
    which takes the same check as ptrace) or environment, or open its exe,
    were the init dumpable."""
    probe = ("while [ ! -e /shared/go ]; do sleep 0.05; done; "
             "for d in /proc/[0-9]*; do p=${d#/proc/}; "
             "  [ \"$p\" = 1 ] && continue; "
             "  [ \"$(cut -d' ' -f4 $d/stat 2>/dev/null)\" = 0 ] || continue; "
             "  cat $d/environ >/dev/null 2>&1 && echo \"$p environ read\" || echo \"$p environ denied\"; "
             "  readlink $d/exe >/dev/null 2>&1 && echo \"$p exe reached\" || echo \"$p exe denied\"; "
             "  (exec 3<$d/mem) 2>/dev/null && echo \"$p mem opened\" || echo \"$p mem denied\"; "
             "done > /shared/out; touch /shared/done; sleep 1000")

    def share(config):
        config["mounts"].append({"destination": "/shared", "type": "bind", "source": host_dir,
                                 "options": ["rbind", "rw"]})

    watcher = runtime.new_id()
    runtime("run", "-d", "-b", runtime.bundle(["sh", "-c", probe], rootfs=runtime.rootfs, mutate=share),
            watcher, check=True)
    watcher_pid = runtime.state(watcher)["pid"]

    def join_pid_namespace(config):
        for ns in config["linux"]["namespaces"]:
            if ns["type"] == "pid":
                ns["path"] = f"/proc/{watcher_pid}/ns/pid"

    waiting = runtime.new_id()
    runtime("create", "-b", runtime.bundle(["sleep", "1000"], rootfs=runtime.rootfs, mutate=join_pid_namespace),
            waiting, check=True)
    open(os.path.join(host_dir, "go"), "w").close()
    for _ in range(200):
        if os.path.exists(os.path.join(host_dir, "done")):
            break
        subprocess.run(["sleep", "0.05"])
    with open(os.path.join(host_dir, "out")) as f:
        seen = f.read().split("\n")
    assert [line.split(" ", 1)[1] for line in seen if line] == ["environ denied", "exe denied", "mem denied"], seen


# -- CVE-2024-21626: host descriptors and a working directory outside ---------

# Puts the descriptors it is given at 3, 4, ... (inheritable) and execs the rest.
LEAKY_CALLER = ("import os, sys\n"
                "n = int(sys.argv[1])\n"
                "for i, fd in enumerate(sys.argv[2:2 + n]):\n"
                "    os.dup2(int(fd), 3 + i)\n"
                "os.execvp(sys.argv[2 + n], sys.argv[2 + n:])\n")


def run_passing_fds(runtime, args, fds, *run_flags):
    """`run` with fds open and inheritable at 3, 4, ... in the caller, as a
    leaky engine would have them."""
    bundle = runtime.bundle(args, rootfs=runtime.rootfs)
    cmd = runtime.cmd + ["--root", runtime.root, "run", *run_flags, "-b", bundle, runtime.new_id()]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.run([sys.executable, "-c", LEAKY_CALLER, str(len(fds)), *map(str, fds), *cmd],
                              stdout=out, stderr=err, pass_fds=fds, timeout=60)
        out.seek(0)
        err.seek(0)
        return proc.returncode, out.read().decode(), err.read().decode()


def test_only_stdio_and_preserved_fds_reach_the_container(runtime, host_dir):
    leaked = [os.open(host_dir, os.O_RDONLY | os.O_DIRECTORY), os.open("/", os.O_RDONLY | os.O_DIRECTORY),
              os.open(os.path.join(host_dir, "host-marker"), os.O_RDONLY)]
    try:
        code, out, err = run_passing_fds(
            runtime, ["sh", "-c", "for n in 3 4 5 6 7 8 9; do [ -e /proc/self/fd/$n ] && echo open $n; done; true"],
            leaked, "--preserve-fds", "1")
    finally:
        for fd in leaked:
            os.close(fd)
    assert code == 0, err
    assert out.split("\n") == ["open 3", ""]


@pytest.mark.parametrize("fd", range(3, 10))
def test_cwd_through_a_descriptor_cannot_leave_the_rootfs(runtime, fd):
    """process.cwd naming /proc/self/fd/N: a directory the runtime held open
    (runc's leaked cgroup fd) would put the program outside its root."""
    def set_cwd(config):
        config["process"]["cwd"] = f"/proc/self/fd/{fd}"

    cid = runtime.new_id()
    proc = runtime("run", "-b", runtime.bundle(["pwd"], rootfs=runtime.rootfs, mutate=set_cwd), cid)
    if proc.returncode == 0:
        assert proc.stdout.startswith("/proc/") or proc.stdout == "/\n", proc.stdout
    assert "unreachable" not in proc.stdout


def test_a_cwd_symlink_resolves_inside_the_rootfs(runtime, own_rootfs, host_dir):
    os.symlink("../../../../../../../../.." + host_dir, os.path.join(own_rootfs, "up"))
    os.symlink(host_dir, os.path.join(own_rootfs, "absolute"))
    for link in ("/up", "/absolute"):
        def set_cwd(config, link=link):
            config["process"]["cwd"] = link

        proc = runtime("run", "-b", bundle_with(runtime, own_rootfs, ["ls"], set_cwd), runtime.new_id())
        assert "host-marker" not in proc.stdout, link


# -- CVE-2021-30465: mount destinations through symlinks ------------------------

def test_a_mount_destination_symlink_stays_in_the_rootfs(runtime, own_rootfs, host_dir):
    os.symlink(host_dir, os.path.join(own_rootfs, "absolute"))
    os.symlink("../../../../../../../../.." + host_dir, os.path.join(own_rootfs, "tmp", "up"))

    def mounts(config):
        config["mounts"] += [{"destination": "/absolute/sub", "type": "tmpfs", "source": "tmpfs"},
                             {"destination": "/tmp/up/sub2", "type": "tmpfs", "source": "tmpfs"}]

    cid = runtime.new_id()
    runtime("create", "-b", bundle_with(runtime, own_rootfs, ["sleep", "1000"], mounts), cid, check=True)
    assert host_mounts_under(host_dir) == []
    assert sorted(os.listdir(host_dir)) == ["host-marker"]
    with open(f"/proc/{runtime.state(cid)['pid']}/mountinfo") as f:
        inside = [line.split()[4] for line in f]
    # Both symlinks resolved as if the rootfs were /: the mounts are there, inside.
    assert {host_dir + "/sub", host_dir + "/sub2"} <= set(inside)


def test_a_symlink_swapped_in_during_setup_stays_in_the_rootfs(runtime, own_rootfs, host_dir):
    """The CVE-2021-30465 race: while the runtime sets up the mounts, the
    image's directory on a mount destination's path is exchanged, again and
    again, with a symlink to the host (renameat2 RENAME_EXCHANGE, atomic)."""
    import ctypes
    import threading

    libc = ctypes.CDLL(None, use_errno=True)
    rename_exchange = 2
    directory, link = os.path.join(own_rootfs, "race"), os.path.join(own_rootfs, "race-link")
    os.mkdir(directory)
    os.symlink(host_dir, link)
    stop = threading.Event()

    def swap():
        while not stop.is_set():
            libc.renameat2(-100, directory.encode(), -100, link.encode(), rename_exchange)

    def mount_under_race(config):
        config["mounts"].append({"destination": "/race/sub", "type": "tmpfs", "source": "tmpfs"})

    bundle = bundle_with(runtime, own_rootfs, ["true"], mount_under_race)
    racer = threading.Thread(target=swap)
    racer.start()
    try:
        for _ in range(30):
            runtime("run", "-b", bundle, runtime.new_id())  # may fail when the link is in place: only escapes count
            assert host_mounts_under(host_dir) == []
            assert sorted(os.listdir(host_dir)) == ["host-marker"]
    finally:
        stop.set()
        racer.join()


@pytest.mark.parametrize("target", ["proc", "sys"])
def test_proc_or_sys_replaced_by_a_symlink_is_not_followed_out(runtime, own_rootfs, host_dir, target):
    os.rmdir(os.path.join(own_rootfs, target))
    os.symlink(host_dir, os.path.join(own_rootfs, target))
    cid = runtime.new_id()
    proc = runtime("run", "-b", bundle_with(runtime, own_rootfs, ["true"]), cid)
    assert host_mounts_under(host_dir) == []
    assert sorted(os.listdir(host_dir)) == ["host-marker"]
    if proc.returncode != 0:
        assert f"/{target}" in proc.stderr


def test_a_masked_path_symlink_masks_nothing_outside(runtime, own_rootfs, host_dir):
    os.symlink(os.path.join(host_dir, "host-marker"), os.path.join(own_rootfs, "masked-file"))
    os.symlink(host_dir, os.path.join(own_rootfs, "masked-dir"))

    def mask(config):
        config["linux"]["maskedPaths"] += ["/masked-file", "/masked-dir"]

    cid = runtime.new_id()
    runtime("create", "-b", bundle_with(runtime, own_rootfs, ["sleep", "1000"], mask), cid, check=True)
    assert host_mounts_under(host_dir) == []
    with open(os.path.join(host_dir, "host-marker")) as f:
        assert f.read() == "the host's\n"


# -- what a container's root may not do ------------------------------------------

def test_no_mount_mknod_or_kernel_writes_from_inside(runtime):
    def with_mknod(config):
        for kind in ("bounding", "effective", "permitted"):
            config["process"]["capabilities"][kind].append("CAP_MKNOD")

    script = ("mount -t tmpfs none /tmp 2>/dev/null && echo MOUNTED; "
              "mknod /tmp/sda b 8 0 2>/dev/null && echo MKNOD; "
              "echo h > /proc/sysrq-trigger 2>/dev/null && echo SYSRQ; "
              "echo 1 > /proc/sys/vm/drop_caches 2>/dev/null && echo PROCSYS; "
              "echo $(head -c 64 /proc/kcore 2>/dev/null | wc -c) kcore bytes")
    cid = runtime.new_id()

    def writable_tmp(config):
        with_mknod(config)
        config["mounts"].append({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"})

    proc = runtime("run", "-b", runtime.bundle(["sh", "-c", script], rootfs=runtime.rootfs, mutate=writable_tmp), cid)
    assert proc.stdout == "0 kcore bytes\n", proc.stdout + proc.stderr
