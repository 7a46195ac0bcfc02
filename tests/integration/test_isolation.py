"""Kernel isolation of a real container, checked from inside (a probe run
in the container) and from outside (host /proc, mountinfo, cgroupfs)."""
import os

import pytest

from bundle import make_rootfs

NAMESPACE_FILES = {"pid": "pid", "network": "net", "ipc": "ipc", "uts": "uts", "mount": "mnt",
                   "cgroup": "cgroup", "user": "user", "time": "time"}
# CAP_KILL (5), CAP_NET_BIND_SERVICE (10), CAP_AUDIT_WRITE (29): the default config's set.
DEFAULT_CAPS = (1 << 5) | (1 << 10) | (1 << 29)
USERNS_MAP = [{"containerID": 0, "hostID": 100000, "size": 65536}]


def run_probe(runtime, script, mutate=None, extra=()):
    """Run `sh -c script` in a fresh container; return its stdout."""
    cid = runtime.new_id()
    bundle = runtime.bundle(["sh", "-c", script], rootfs=runtime.rootfs, mutate=mutate)
    proc = runtime("run", *extra, "-b", bundle, cid)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    return proc.stdout


def created(runtime, args=("sleep", "1000"), mutate=None):
    cid = runtime.new_id()
    bundle = runtime.bundle(list(args), rootfs=runtime.rootfs, mutate=mutate)
    runtime("create", "-b", bundle, cid, check=True)
    return cid, runtime.state(cid)["pid"]


def ns_inode(pid, kind):
    return os.stat(f"/proc/{pid}/ns/{NAMESPACE_FILES[kind]}").st_ino


def add_userns(config):
    config["linux"]["namespaces"].append({"type": "user"})
    config["linux"]["uidMappings"] = list(USERNS_MAP)
    config["linux"]["gidMappings"] = list(USERNS_MAP)
    # A user namespace's root may not mount the host's cgroup hierarchy read-write
    # nor reach devices cgroup rules: keep the config to what rootless-style runs use.
    config["mounts"] = [m for m in config["mounts"] if m["destination"] != "/sys/fs/cgroup"]
    for m in config["mounts"]:
        if m["destination"] == "/sys":
            m.update(type="none", source="/sys", options=["rbind", "nosuid", "noexec", "nodev", "ro"])


def test_shell_is_pid_1_and_hostname_is_the_configs(runtime):
    out = run_probe(runtime, "echo pid=$$; hostname; ps -o pid,comm; true")
    lines = out.splitlines()
    assert lines[0] == "pid=1"
    assert lines[1] == "pyoci"
    assert lines[3].split() == ["1", "sh"]


def test_every_new_namespace_differs_from_the_hosts(runtime):
    def mutate(config):
        add_userns(config)
        config["linux"]["namespaces"].append({"type": "time"})

    _cid, pid = created(runtime, mutate=mutate)
    for kind in NAMESPACE_FILES:
        assert ns_inode(pid, kind) != ns_inode(os.getpid(), kind), f"{kind} namespace is the host's"


def test_uid_map_from_outside_and_id_inside(runtime):
    def mutate(config):
        add_userns(config)

    cid, pid = created(runtime, args=("sh", "-c", "id -u; cat /proc/self/uid_map"), mutate=mutate)
    with open(f"/proc/{pid}/uid_map") as f:
        assert f.read().split() == ["0", "100000", "65536"]
    with open(f"/proc/{pid}/status") as f:
        uids = next(line for line in f if line.startswith("Uid:")).split()[1:]
    assert uids == ["100000"] * 4, "container root is host uid 100000"


def join_namespace_of(runtime, pid, kind):
    """A created container that joins kind from pid by path; its init's pid."""
    def mutate(config):
        for ns in config["linux"]["namespaces"]:
            if ns["type"] == kind:
                ns["path"] = f"/proc/{pid}/ns/{NAMESPACE_FILES[kind]}"

    return created(runtime, mutate=mutate)[1]


def test_join_a_network_namespace_by_path(runtime):
    _first, pid = created(runtime)
    pid2 = join_namespace_of(runtime, pid, "network")
    assert ns_inode(pid2, "network") == ns_inode(pid, "network")
    assert ns_inode(pid2, "pid") != ns_inode(pid, "pid")


def test_join_pid_namespace_makes_a_non_init_member(runtime):
    _first, pid = created(runtime)
    pid2 = join_namespace_of(runtime, pid, "pid")
    assert ns_inode(pid2, "pid") == ns_inode(pid, "pid")
    with open(f"/proc/{pid2}/status") as f:
        nspid = next(line for line in f if line.startswith("NSpid:")).split()[1:]
    assert nspid[0] == str(pid2) and nspid[1] != "1"


def test_time_namespace_offsets(runtime):
    def mutate(config):
        config["linux"]["namespaces"].append({"type": "time"})
        config["linux"]["timeOffsets"] = {"boottime": {"secs": 864000, "nanosecs": 0}}

    out = run_probe(runtime, "cut -d' ' -f1 /proc/uptime", mutate=mutate)
    with open("/proc/uptime") as f:
        host_uptime = float(f.read().split()[0])
    assert float(out) >= host_uptime + 864000 - 5


def test_loopback_is_up_in_a_new_network_namespace(runtime):
    out = run_probe(runtime, "cat /sys/class/net/lo/flags; ls /sys/class/net")
    flags, devices = out.split("\n", 1)
    assert int(flags, 16) & 0x1, "IFF_UP"
    assert devices.split() == ["lo"]


def test_mounts_root_readonly_masked_and_readonly_paths(runtime):
    out = run_probe(runtime, "cat /proc/self/mountinfo; touch /x 2>/dev/null && echo WROTE; "
                             "echo 1 > /proc/sys/kernel/domainname 2>/dev/null && echo SYSWRITE; "
                             "wc -c < /proc/keys; true")
    mounts = {}
    for line in out.splitlines():
        fields = line.split()
        if len(fields) > 5 and " - " in line:
            mounts[fields[4]] = fields[5].split(",")
    assert "ro" in mounts["/"], "root.readonly"
    assert {"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup"} <= set(mounts)
    assert "ro" in mounts["/proc/sys"], "readonlyPaths"
    assert "/proc/keys" in mounts, "maskedPaths binds /dev/null over files"
    assert "/proc/acpi" in mounts, "maskedPaths puts an empty tmpfs over directories"
    assert "ro" in mounts["/sys"] and "nosuid" in mounts["/sys"]
    assert "WROTE" not in out and "SYSWRITE" not in out
    assert out.splitlines()[-1].strip() == "0"


def test_mountinfo_from_outside_shows_nothing_on_the_host(runtime):
    _cid, pid = created(runtime)
    with open(f"/proc/{pid}/mountinfo") as f:
        inside = f.read()
    with open("/proc/self/mountinfo") as f:
        host = f.read()
    assert runtime.rootfs not in host, "no container mount leaks to the host"
    root = next(line.split() for line in inside.splitlines() if line.split()[4] == "/")
    # mountinfo's root is a path in the mount's filesystem: the rootfs's path
    # below the host mount it is on (/tmp is its own tmpfs on some hosts).
    mounts = [line.split() for line in host.splitlines()]
    holder = max((m for m in mounts if runtime.rootfs == m[4] or runtime.rootfs.startswith(m[4].rstrip("/") + "/")),
                 key=lambda m: len(m[4]))
    below = runtime.rootfs[len(holder[4].rstrip("/")):]
    assert root[3] == holder[3].rstrip("/") + below, "the container's / is its rootfs"


def test_devices_and_dev_symlinks(runtime):
    def mutate(config):
        config["linux"]["devices"] = [{"path": "/dev/mydev", "type": "c", "major": 1, "minor": 3,
                                       "fileMode": 0o646, "uid": 7, "gid": 8}]

    out = run_probe(runtime, "stat -c '%n %t:%T %a %u %g %F' /dev/null /dev/mydev /dev/urandom; "
                             "for l in /dev/fd /dev/stdin /dev/ptmx; do readlink $l; done; echo hi > /dev/mydev && echo ok",
                    mutate=mutate)
    lines = out.splitlines()
    assert lines[0] == "/dev/null 1:3 666 0 0 character special file"
    assert lines[1] == "/dev/mydev 1:3 646 7 8 character special file"
    assert lines[2].startswith("/dev/urandom 1:9 666")
    assert lines[3:6] == ["/proc/self/fd", "/proc/self/fd/0", "pts/ptmx"]
    assert lines[6] == "ok"


def test_devices_cgroup_denies_what_is_not_allowed(runtime):
    # /dev/kmsg (c 1:11) is neither a default device nor in linux.devices:
    # a bind of the host's node exists in the container but may not be opened.
    def mutate(config):
        config["mounts"].append({"destination": "/dev/kmsg", "type": "bind", "source": "/dev/kmsg", "options": ["bind"]})

    out = run_probe(runtime, "head -c 1 /dev/kmsg 2>&1; echo", mutate=mutate)
    assert "not permitted" in out


def test_process_user_groups_umask_cwd_env_rlimits_caps(runtime):
    def mutate(config):
        process = config["process"]
        process["user"] = {"uid": 1000, "gid": 1001, "additionalGids": [5, 7], "umask": 0o027}
        process["cwd"] = "/tmp"
        process["env"].append("GREETING=hello world")
        process["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 321, "hard": 654},
                              {"type": "RLIMIT_NPROC", "soft": 100, "hard": 200}]

    out = run_probe(runtime, "id; umask; pwd; echo $GREETING; ulimit -n; ulimit -Hn; ulimit -u; "
                             "grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb)' /proc/self/status; grep NoNewPrivs /proc/self/status",
                    mutate=mutate)
    lines = out.splitlines()
    assert lines[0] == "uid=1000 gid=1001 groups=5(tty),7"
    assert lines[1] == "0027"
    assert lines[2] == "/tmp"
    assert lines[3] == "hello world"
    assert lines[4:7] == ["321", "654", "100"]
    caps = dict(line.split(":") for line in lines[7:12])
    assert int(caps["CapBnd"], 16) == DEFAULT_CAPS
    # A non-root user keeps no capability over execve unless it is ambient (as with runc).
    assert int(caps["CapEff"], 16) == int(caps["CapPrm"], 16) == 0
    assert lines[12].split() == ["NoNewPrivs:", "1"]


def test_root_user_gets_exactly_the_configured_capabilities(runtime):
    out = run_probe(runtime, "grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb)' /proc/self/status")
    caps = {k: int(v, 16) for k, v in (line.split(":") for line in out.splitlines())}
    assert caps == {"CapInh": 0, "CapPrm": DEFAULT_CAPS, "CapEff": DEFAULT_CAPS, "CapBnd": DEFAULT_CAPS, "CapAmb": 0}


def test_ambient_capabilities_for_a_non_root_user(runtime):
    def mutate(config):
        config["process"]["user"] = {"uid": 1000, "gid": 1000}
        caps = config["process"]["capabilities"]
        for s in ("bounding", "effective", "permitted", "inheritable", "ambient"):
            caps[s] = ["CAP_NET_BIND_SERVICE"]

    out = run_probe(runtime, "grep -E '^CapAmb|^CapEff' /proc/self/status", mutate=mutate)
    values = dict(line.split(":") for line in out.splitlines())
    assert int(values["CapAmb"], 16) == 1 << 10
    assert int(values["CapEff"], 16) == 1 << 10


def test_sysctl_and_domainname(runtime):
    def mutate(config):
        config["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1", "kernel.shmmni": "1234"}
        config["domainname"] = "example.test"
        config["linux"]["readonlyPaths"].remove("/proc/sys")

    out = run_probe(runtime, "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni /proc/sys/kernel/domainname",
                    mutate=mutate)
    assert out.split() == ["1", "1234", "example.test"]
    with open("/proc/sys/kernel/shmmni") as f:
        assert f.read().strip() != "1234", "the host's IPC namespace is untouched"


def test_bind_mounts_ro_and_propagation(runtime, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "file").write_text("from the host\n")
    single = tmp_path / "single.txt"
    single.write_text("one file\n")

    def mutate(config):
        config["mounts"] += [
            {"destination": "/data", "type": "bind", "source": str(shared), "options": ["rbind", "ro", "rprivate"]},
            {"destination": "/etc/single.txt", "type": "none", "source": str(single), "options": ["bind"]},
            {"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["nodev", "size=1m", "rro"]},
        ]

    out = run_probe(runtime, "cat /data/file /etc/single.txt; touch /data/x 2>/dev/null && echo WROTE; "
                             "touch /scratch/x 2>/dev/null && echo WROTE2; grep -E ' /(data|scratch) ' /proc/self/mountinfo",
                    mutate=mutate)
    assert "from the host" in out and "one file" in out
    assert "WROTE" not in out
    data = next(line for line in out.splitlines() if " /data " in line)
    assert " ro," in data and "shared:" not in data


def test_no_pivot_runs_in_a_chroot(runtime):
    out = run_probe(runtime, "ls /; cat /proc/self/mountinfo | head -1", extra=("--no-pivot",))
    assert "bin" in out.split()


def test_init_joins_its_cgroups_and_cgroup_namespace_hides_the_path(runtime):
    cid, pid = created(runtime)
    with open(f"/proc/{pid}/cgroup") as f:
        host_view = f.read()
    joined = [line for line in host_view.splitlines() if line.split(":")[1] in ("pids", "memory", "")]
    assert joined and all(line.endswith("/" + cid) for line in joined), host_view
    runtime("start", cid, check=True)
    out = run_probe(runtime, "cat /proc/self/cgroup; ls /sys/fs/cgroup")
    assert all(line.endswith(":/") for line in out.splitlines() if line.count(":") == 2)
    # A v1 hierarchy per controller, or (pure v2) the container's own cgroup's files.
    assert "memory" in out.split() or "memory.max" in out.split(), out


def test_terminal_false_inherits_stdio(runtime):
    assert run_probe(runtime, "echo out; echo err >&2; test -t 0 || echo notty").split() == ["out", "notty"]


@pytest.mark.parametrize("ns", ["ipc", "uts", "pid", "network", "cgroup"])
def test_namespace_absent_means_the_hosts(runtime, ns):
    def mutate(config):
        config["linux"]["namespaces"] = [n for n in config["linux"]["namespaces"] if n["type"] != ns]
        if ns == "uts":
            del config["hostname"]

    _cid, pid = created(runtime, mutate=mutate)
    assert ns_inode(pid, ns) == ns_inode(os.getpid(), ns)


def test_no_namespaces_at_all_inherits_every_one_and_leaves_no_mount(runtime):
    # The spec: a type not listed is the runtime's, the mount namespace too.
    # Then the container's mounts are the host's until delete takes them down.
    def mutate(config):
        config["linux"]["namespaces"] = []
        del config["hostname"]

    cid, pid = created(runtime, mutate=mutate)
    for kind in NAMESPACE_FILES:
        assert ns_inode(pid, kind) == ns_inode(os.getpid(), kind), f"{kind} namespace is new"
    with open("/proc/self/mountinfo") as f:
        assert any(line.split()[4] == os.path.join(runtime.rootfs, "proc") for line in f)
    runtime("delete", "--force", cid, check=True)
    with open("/proc/self/mountinfo") as f:
        assert not [line for line in f if line.split()[4].startswith(runtime.rootfs)]


def test_rootfs_propagation_without_a_mount_namespace_is_refused(runtime):
    def mutate(config):
        config["linux"]["namespaces"] = [n for n in config["linux"]["namespaces"] if n["type"] != "mount"]
        config["linux"]["rootfsPropagation"] = "shared"

    cid = runtime.new_id()
    proc = runtime("create", "-b", runtime.bundle(["true"], rootfs=runtime.rootfs, mutate=mutate), cid)
    assert proc.returncode == 1 and "linux.rootfsPropagation" in proc.stderr


def test_failed_create_without_a_mount_namespace_takes_its_mounts_down(runtime):
    def mutate(config):
        config["linux"]["namespaces"] = [n for n in config["linux"]["namespaces"] if n["type"] != "mount"]
        config["hooks"] = {"createRuntime": [{"path": "/bin/false"}]}

    cid = runtime.new_id()
    proc = runtime("create", "-b", runtime.bundle(["true"], rootfs=runtime.rootfs, mutate=mutate), cid)
    assert proc.returncode == 1
    with open("/proc/self/mountinfo") as f:
        assert not [line for line in f if line.split()[4].startswith(runtime.rootfs)]


def test_mounts_are_made_while_the_host_renames_files(runtime, tmp_path):
    """The kernel answers an openat2(RESOLVE_IN_ROOT) walk that climbs ".."
    with EAGAIN when any rename on the host races it; create must try again,
    not fail with "resource temporarily unavailable".  A child renames
    without pause while containers mount through a symlink that climbs."""
    rootfs = make_rootfs(str(tmp_path / "rootfs"))
    os.makedirs(os.path.join(rootfs, "mnt", "real"))
    os.symlink("../mnt/../mnt/real", os.path.join(rootfs, "mnt", "up"))

    def mutate(config):
        config["mounts"] += [{"destination": f"/mnt/up/t{i}", "type": "tmpfs", "source": "tmpfs"} for i in range(40)]

    renamer = os.fork()
    if renamer == 0:
        try:
            a, b = str(tmp_path / "a"), str(tmp_path / "b")
            open(a, "w").close()
            while True:
                os.rename(a, b)
                os.rename(b, a)
        finally:
            os._exit(0)
    try:
        for _ in range(10):
            cid = runtime.new_id()
            bundle = runtime.bundle(["ls", "-d", "/mnt/real/t39"], rootfs=rootfs, mutate=mutate)
            proc = runtime("run", "-b", bundle, cid)
            assert (proc.returncode, proc.stderr) == (0, "")
    finally:
        os.kill(renamer, 9)
        os.waitpid(renamer, 0)
