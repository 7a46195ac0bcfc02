"""create's options and the less common config fields: --preserve-fds and
LISTEN_FDS, the session keyring, --systemd-cgroup paths, oomScoreAdj,
rootfsPropagation, the tmpcopyup mount option."""
import contextlib
import os
import resource
import subprocess

from bundle import make_rootfs
from host_view import cgroup_dir, cgroup_trees_named, remove_cgroup_tree
from test_isolation import run_probe


def test_preserve_fds_and_listen_fds_reach_the_program_and_nothing_else(runtime, tmp_path):
    cid = runtime.new_id()
    bundle = runtime.bundle(["sh", "-c", "ls /proc/self/fd | sort -n | tr '\\n' ' '; echo; cat <&3; cat <&4; "
                                         "echo LISTEN_FDS=$LISTEN_FDS LISTEN_PID=$LISTEN_PID"],
                            rootfs=runtime.rootfs)
    (tmp_path / "three").write_text("fd three\n")
    (tmp_path / "four").write_text("fd four\n")
    leak = os.open(tmp_path / "leak", os.O_WRONLY | os.O_CREAT)  # must not reach the container
    three = os.open(tmp_path / "three", os.O_RDONLY)
    four = os.open(tmp_path / "four", os.O_RDONLY)

    def arrange_fds():
        # 3: the LISTEN_FDS socket stand-in, 4: --preserve-fds 1, 5: an fd nobody passed on
        for target, fd in ((3, three), (4, four), (5, leak)):
            os.dup2(fd, target)

    try:
        env = dict(os.environ, LISTEN_FDS="1")
        # LISTEN_PID names the runtime itself, as systemd sets it: the shell's pid, which exec keeps.
        as_activated = ["sh", "-c", 'LISTEN_PID=$$ exec "$@"', "sh"]
        out = subprocess.run([*as_activated, *runtime.cmd, "--root", runtime.root, "run", "--preserve-fds", "1",
                              "-b", bundle, cid],
                             capture_output=True, text=True, env=env, close_fds=False, preexec_fn=arrange_fds,
                             timeout=30)
    finally:
        for fd in (three, four, leak):
            os.close(fd)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    # 0-2 stdio, 3 LISTEN_FDS, 4 preserved, and the fd ls itself opens.
    assert lines[0].split()[:5] == ["0", "1", "2", "3", "4"] and "5" not in lines[0].split()[:-1]
    assert lines[1:4] == ["fd three", "fd four", "LISTEN_FDS=1 LISTEN_PID=1"]


def test_new_session_keyring_unless_no_new_keyring(runtime):
    def unmask_keys(config):
        config["linux"]["maskedPaths"].remove("/proc/keys")

    for extra, expect in (((), True), (("--no-new-keyring",), False)):
        cid = runtime.new_id()
        bundle = runtime.bundle(["cat", "/proc/keys"], rootfs=runtime.rootfs, mutate=unmask_keys)
        proc = runtime("run", *extra, "-b", bundle, cid)
        assert proc.returncode == 0, proc.stderr
        assert (f"_ses.{cid}" in proc.stdout) == expect, proc.stdout


def test_systemd_cgroup_path_maps_to_cgroupfs(runtime):
    cid = runtime.new_id()
    # A slice of this test's own, nested as systemd nests "a-b.slice" in "a.slice".
    outer = f"pyoci{cid.replace('-', '')}"
    slice_name = f"{outer}-test.slice"

    def mutate(config):
        config["linux"]["cgroupsPath"] = f"{slice_name}:pyoci:{cid}"

    bundle = runtime.bundle(["sleep", "1000"], rootfs=runtime.rootfs, mutate=mutate)
    try:
        runtime("create", "-b", bundle, cid, check=True, global_args=("--systemd-cgroup",))
        pid = runtime.state(cid)["pid"]
        directory = cgroup_dir(pid, "pids")  # its v1 hierarchy's, or cgroup2's
        assert directory.endswith(f"/{outer}.slice/{slice_name}/pyoci-{cid}.scope")
        runtime("delete", "-f", cid, check=True)
        assert not os.path.exists(directory)
        # The slices were made by pyoci for this container: they go with it.
        assert cgroup_trees_named(f"{outer}.slice") == []
    finally:
        runtime("delete", "-f", cid)
        remove_cgroup_tree(f"{outer}.slice")


def test_oom_score_adj(runtime):
    def mutate(config):
        config["process"]["oomScoreAdj"] = 500

    assert run_probe(runtime, "cat /proc/self/oom_score_adj", mutate=mutate).strip() == "500"


def test_rootfs_propagation_shared_and_private(runtime):
    # rslave's master: tag shows only when the host's mount is shared; either way it is not shared.
    for value, tag in (("shared", "shared:"), ("private", None), ("rslave", "not shared"), ("unbindable", "unbindable")):
        def mutate(config, value=value):
            config["linux"]["rootfsPropagation"] = value

        out = run_probe(runtime, "awk '$5 == \"/\"' /proc/self/mountinfo", mutate=mutate)
        optional = out.split(" - ")[0].split()[6:]
        if tag is None:
            assert optional == [], (value, out)
        elif tag == "not shared":
            assert not any(o.startswith("shared:") for o in optional), (value, out)
        else:
            assert any(o.startswith(tag) for o in optional), (value, out)


def test_tmpcopyup_fills_a_tmpfs_with_what_it_hides(runtime, tmp_path):
    # podman's --read-only asks for it on /tmp, /var/tmp and /run.
    rootfs = make_rootfs(str(tmp_path / "rootfs"))
    seed = os.path.join(rootfs, "seed")
    os.makedirs(os.path.join(seed, "sub", "deeper"))
    with open(os.path.join(seed, "sub", "deeper", "data"), "w") as f:
        f.write("x" * 100000)
    os.chmod(os.path.join(seed, "sub", "deeper", "data"), 0o604)
    os.chown(os.path.join(seed, "sub", "deeper", "data"), 1000, 1001)
    os.chmod(os.path.join(seed, "sub"), 0o1777)
    os.symlink("sub/deeper/data", os.path.join(seed, "link"))
    os.mkfifo(os.path.join(seed, "fifo"), 0o600)
    os.utime(os.path.join(seed, "sub", "deeper", "data"), (1000000000, 1000000000))

    def mutate(config):
        config["root"]["path"] = rootfs
        config["mounts"].append({"destination": "/seed", "type": "tmpfs", "source": "tmpfs",
                                 "options": ["tmpcopyup", "nosuid", "mode=755"]})

    out = run_probe(runtime, "stat -f -c %T /seed; cd /seed; "
                             "stat -c '%n|%a|%u|%g|%s|%Y|%F' sub sub/deeper/data link fifo; "
                             "readlink link; wc -c < link; echo new > sub/new && echo written", mutate=mutate)
    lines = out.splitlines()
    assert lines[0] == "tmpfs", out
    stat = {line.split("|")[0]: line.split("|")[1:] for line in lines[1:5]}
    assert stat["sub"][:3] == ["1777", "0", "0"] and stat["sub"][5] == "directory", out
    assert stat["sub/deeper/data"] == ["604", "1000", "1001", "100000", "1000000000", "regular file"], out
    assert stat["link"][5] == "symbolic link" and stat["fifo"][0] == "600" and stat["fifo"][5] == "fifo", out
    assert lines[5:] == ["sub/deeper/data", "100000", "written"], out
    # The image itself is untouched.
    assert not os.path.exists(os.path.join(seed, "sub", "new"))


@contextlib.contextmanager
def deep_tree_rootfs(tmp_path, depth):
    """A rootfs whose /deep holds d/d/.../d/leaf, depth directories down,
    on a tmpfs of its own that goes at the end, tree and all."""
    rootfs = make_rootfs(str(tmp_path / "rootfs"))
    top = os.path.join(rootfs, "deep")
    os.mkdir(top)
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", top], check=True)
    try:
        fd = os.open(top, os.O_DIRECTORY)
        for _ in range(depth):
            os.mkdir("d", dir_fd=fd)
            below = os.open("d", os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = below
        with open(os.open("leaf", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "w") as f:
            f.write("bottom\n")
        os.close(fd)
        yield rootfs
    finally:
        subprocess.run(["umount", "-l", top], check=True)


def descriptors_for_a_deep_copy():
    """preexec_fn for the runtime: the copy holds two descriptors a level,
    more than a default soft RLIMIT_NOFILE of 1024 allows for these depths
    (a runtime started by an engine usually has more; root may raise it)."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (8192, max(hard, 8192)))


def with_deep_tmpcopyup(rootfs):
    def mutate(config):
        config["root"]["path"] = rootfs
        config["mounts"].append({"destination": "/deep", "type": "tmpfs", "source": "tmpfs",
                                 "options": ["tmpcopyup"]})
    return mutate


def test_tmpcopyup_copies_a_tree_deeper_than_the_inits_stack(runtime, tmp_path):
    # 1900 levels: at 8 KiB of stack a level, a recursive copy overran 8 MiB.
    with deep_tree_rootfs(tmp_path, 1900) as rootfs:
        cid = runtime.new_id()
        bundle = runtime.bundle(["cat", "/deep/" + "d/" * 1900 + "leaf"], mutate=with_deep_tmpcopyup(rootfs))
        proc = runtime("run", "-b", bundle, cid, preexec_fn=descriptors_for_a_deep_copy)
    assert (proc.returncode, proc.stdout) == (0, "bottom\n"), proc.stderr


def test_tmpcopyup_deeper_than_the_runtimes_descriptors_fails_cleanly(runtime, tmp_path):
    with deep_tree_rootfs(tmp_path, 1900) as rootfs:
        cid = runtime.new_id()
        bundle = runtime.bundle(["true"], mutate=with_deep_tmpcopyup(rootfs))
        proc = runtime("create", "-b", bundle, cid,
                       preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024)))
    assert proc.returncode == 1
    assert "/deep: mount (tmpcopyup): openat: too many open files" in proc.stderr, proc.stderr


def test_tmpcopyup_refuses_a_tree_deeper_than_a_path_reaches(runtime, tmp_path):
    # Past PATH_MAX / 2 levels no path names the bottom: create fails cleanly.
    with deep_tree_rootfs(tmp_path, 2100) as rootfs:
        cid = runtime.new_id()
        proc = runtime("create", "-b", runtime.bundle(["true"], mutate=with_deep_tmpcopyup(rootfs)), cid,
                       preexec_fn=descriptors_for_a_deep_copy)
    assert proc.returncode == 1
    assert "/deep: mount (tmpcopyup): file name too long" in proc.stderr, proc.stderr


def test_an_error_names_the_syscall_that_failed_inside_its_step(runtime, tmp_path):
    """A tmpcopyup makes dozens of syscalls: the error names the one that
    failed, after the step's label and before its errno."""
    rootfs = make_rootfs(str(tmp_path / "rootfs"))
    os.makedirs(os.path.join(rootfs, "seed"))
    with open(os.path.join(rootfs, "seed", "big"), "wb") as f:
        f.write(b"x" * (1 << 20))

    def mutate(config):
        config["root"]["path"] = rootfs
        config["mounts"].append({"destination": "/seed", "type": "tmpfs", "source": "tmpfs",
                                 "options": ["tmpcopyup", "size=64k"]})

    cid = runtime.new_id()
    proc = runtime("create", "-b", runtime.bundle(["true"], mutate=mutate), cid)
    assert proc.returncode == 1
    assert "/seed: mount (tmpcopyup): sendfile: no space left on device" in proc.stderr, proc.stderr


def test_tmpcopyup_on_a_bind_is_refused(runtime, tmp_path):
    def mutate(config):
        config["mounts"].append({"destination": "/mnt", "type": "bind", "source": str(tmp_path),
                                 "options": ["rbind", "tmpcopyup"]})

    cid = runtime.new_id()
    bundle = runtime.bundle(["true"], rootfs=runtime.rootfs, mutate=mutate)
    proc = runtime("create", "-b", bundle, cid)
    assert proc.returncode == 1
    assert "tmpcopyup needs a tmpfs mount" in proc.stderr


def test_stdio_on_the_hosts_dev_null_becomes_the_containers(runtime):
    # What engines give a container without stdin; on a host mount it could not be checkpointed.
    cid = runtime.new_id()
    bundle = runtime.bundle(["sleep", "1000"], rootfs=runtime.rootfs)
    with open(os.devnull, "rb") as null:
        subprocess.run(runtime.cmd + ["--root", runtime.root, "create", "-b", bundle, cid], stdin=null,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    pid = runtime.state(cid)["pid"]
    with open(f"/proc/{pid}/fdinfo/0") as f:
        mnt_id = next(line.split()[1] for line in f if line.startswith("mnt_id:"))
    with open(f"/proc/{pid}/mountinfo") as f:
        container_dev = [line.split()[0] for line in f if line.split()[4] == "/dev"]
    assert os.readlink(f"/proc/{pid}/fd/0") == "/dev/null"
    assert container_dev == [mnt_id]
