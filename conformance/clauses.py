"""Observable MUST/SHOULD clauses of runtime-spec v1.3.0, one check each.

Each check takes a harness.Runtime, raises Failed (or Skipped) when the
runtime does not meet the clause, and names the clause it checks: the spec
file and the requirement, in short.
"""
import json
import os
import time

from harness import Failed, Skipped, check

CLAUSES = []


class Clause:
    def __init__(self, ident, source, text, fn):
        self.ident, self.source, self.text, self.fn = ident, source, text, fn


def clause(ident, source, text):
    def register(fn):
        CLAUSES.append(Clause(ident, source, text, fn))
        return fn
    return register


def namespace_inode(pid, name):
    return os.stat(f"/proc/{pid}/ns/{name}").st_ino


# -- runtime.md: state and lifecycle --------------------------------------------

@clause("state.fields", "runtime.md#state",
        "state MUST include ociVersion, id, status, pid (created/running) and an absolute bundle")
def state_fields(rt):
    cid = rt.created()
    state = rt.state(cid)
    for key in ("ociVersion", "id", "status", "bundle"):
        check(key in state, f"state has no {key}")
    check(state["id"] == cid, "id differs")
    check(os.path.isabs(state["bundle"]), "bundle is not absolute")
    check(isinstance(state.get("pid"), int) and state["pid"] > 0, "no pid while created")


@clause("state.annotations", "runtime.md#state", "annotations of the config MUST appear in the state")
def state_annotations(rt):
    cid = rt.created(mutate=lambda c: c.update(annotations={"org.example.key": "value"}))
    check(rt.state(cid).get("annotations", {}).get("org.example.key") == "value", "annotation missing")


@clause("create.status", "runtime.md#create", "after create the status MUST be created")
def create_status(rt):
    check(rt.state(rt.created())["status"] == "created", "status is not created")


@clause("create.not-running-program", "runtime.md#create",
        "create MUST NOT run the user-specified program; start MUST run it")
def create_not_running(rt):
    marker = os.path.join(rt.workdir, "marker-" + rt.name)
    os.makedirs(marker, exist_ok=True)

    def mutate(config):
        config["mounts"].append({"destination": "/marker", "type": "bind", "source": marker, "options": ["bind"]})

    cid = rt.created(["sh", "-c", "touch /marker/ran; sleep 1000"], mutate)
    check(not os.path.exists(os.path.join(marker, "ran")), "the program ran at create")
    check(rt("start", cid).code == 0, "start failed")
    for _ in range(250):
        if os.path.exists(os.path.join(marker, "ran")):
            return
        time.sleep(0.02)
    raise Failed("the program did not run after start")


@clause("create.unique-id", "runtime.md#create",
        "create with an ID already in use MUST generate an error and have no effect")
def create_unique(rt):
    cid = rt.created()
    pid = rt.state(cid)["pid"]
    check(rt("create", "--bundle", rt.bundle(["true"]), cid).code != 0, "second create succeeded")
    state = rt.state(cid)
    check(state["status"] == "created" and state["pid"] == pid, "the first container changed")


@clause("start.not-created", "runtime.md#start",
        "start of a container that is not created MUST have no effect and MUST generate an error")
def start_twice(rt):
    cid = rt.created()
    check(rt("start", cid).code == 0, "start failed")
    check(rt("start", cid).code != 0, "second start succeeded")
    check(rt.state(cid)["status"] == "running", "the container changed")


@clause("start.no-process", "runtime.md#start",
        "start of a container without process MUST generate an error (create may succeed)")
def start_without_process(rt):
    cid = rt.new_id()
    result = rt("create", "--bundle", rt.bundle(["true"], lambda c: c.pop("process")), cid)
    if result.code != 0:
        return  # refused at create: also an error at the right operation
    check(rt("start", cid).code != 0, "start of a config without process succeeded")


@clause("kill.signal", "runtime.md#kill", "kill MUST send the signal to the container's process")
def kill_signal(rt):
    cid = rt.created()
    check(rt("start", cid).code == 0, "start failed")
    check(rt("kill", cid, "KILL").code == 0, "kill failed")
    rt.wait_status(cid, "stopped")


@clause("kill.created", "runtime.md#kill", "kill MUST work on a created container (TERM stops it)")
def kill_created(rt):
    cid = rt.created()
    check(rt("kill", cid, "TERM").code == 0, "kill failed")
    rt.wait_status(cid, "stopped")


@clause("kill.stopped", "runtime.md#kill",
        "kill of a container that is neither created nor running MUST generate an error")
def kill_stopped(rt):
    cid = rt.created()
    rt("kill", cid, "KILL")
    rt.wait_status(cid, "stopped")
    check(rt("kill", cid, "KILL").code != 0, "kill of a stopped container succeeded")


@clause("delete.not-stopped", "runtime.md#delete",
        "delete of a container that is not stopped MUST have no effect and MUST generate an error")
def delete_not_stopped(rt):
    cid = rt.created()
    check(rt("delete", cid).code != 0, "delete of a created container succeeded")
    check(rt.state(cid)["status"] == "created", "the created container changed")
    check(rt("start", cid).code == 0, "start failed")
    check(rt("delete", cid).code != 0, "delete of a running container succeeded")
    check(rt.state(cid)["status"] == "running", "the running container changed")


@clause("delete.removes", "runtime.md#delete", "after delete the container MUST be gone (state fails)")
def delete_removes(rt):
    cid = rt.created()
    rt("kill", cid, "KILL")
    rt.wait_status(cid, "stopped")
    check(rt("delete", cid).code == 0, "delete of a stopped container failed")
    check(rt("state", cid).code != 0, "state still answers")


@clause("state.unknown", "runtime.md#query-state", "state of an unknown container MUST generate an error")
def state_unknown(rt):
    check(rt("state", "conf-does-not-exist").code != 0, "state of an unknown id succeeded")


# -- runtime.md / config.md: hooks ----------------------------------------------

def hook_logger(log, phase):
    return {"path": "/bin/sh", "args": ["sh", "-c", f"echo {phase} $(cat) >> {log}"]}


def read_hook_log(log):
    entries = []
    if os.path.exists(log):
        with open(log) as f:
            for line in f:
                phase, state = line.split(" ", 1)
                entries.append((phase, json.loads(state)))
    return entries


@clause("hooks.order-and-state", "config.md#posix-platform-hooks",
        "hooks run at their lifecycle points in order, each reading the container state on stdin")
def hooks_order(rt):
    log = os.path.join(rt.workdir, f"hooks-{rt.name}-{os.urandom(4).hex()}.log")
    phases = ("prestart", "createRuntime", "poststart", "poststop")
    cid = rt.created(mutate=lambda c: c.update(hooks={p: [hook_logger(log, p)] for p in phases}))
    check([p for p, _ in read_hook_log(log)] == ["prestart", "createRuntime"], "wrong hooks at create")
    check(rt("start", cid).code == 0, "start failed")
    check([p for p, _ in read_hook_log(log)][2:] == ["poststart"], "poststart did not run before start returned")
    rt("kill", cid, "KILL")
    rt.wait_status(cid, "stopped")
    check(rt("delete", cid).code == 0, "delete failed")
    entries = read_hook_log(log)
    check([p for p, _ in entries] == list(phases), f"order was {[p for p, _ in entries]}")
    for phase, state in entries:
        check(state.get("id") == cid, f"{phase} read the wrong state")
    check(entries[2][1].get("status") == "running", "poststart did not see status running")


@clause("hooks.poststart-failure-warns", "config.md#poststart",
        "a failing poststart hook MUST only log a warning; the lifecycle continues")
def poststart_failure(rt):
    cid = rt.created(mutate=lambda c: c.update(hooks={"poststart": [{"path": "/bin/false"}]}))
    check(rt("start", cid).code == 0, "start failed because of a poststart hook")
    check(rt.state(cid)["status"] == "running", "the container is not running")


@clause("hooks.prestart-failure-fails", "config.md#prestart",
        "a failing prestart hook MUST generate an error and stop the container")
def prestart_failure(rt):
    cid = rt.new_id()
    bundle = rt.bundle(["sleep", "1000"], lambda c: c.update(hooks={"prestart": [{"path": "/bin/false"}]}))
    check(rt("create", "--bundle", bundle, cid).code != 0, "create succeeded despite the prestart hook")
    result = rt("state", cid)
    check(result.code != 0 or json.loads(result.out)["status"] == "stopped", "the container still runs")


# -- config.md ---------------------------------------------------------------------

@clause("root.readonly", "config.md#root", "root.readonly true: the root filesystem MUST be read-only")
def root_readonly(rt):
    out = rt.run_probe("touch /x 2>/dev/null && echo writable || echo readonly",
                       lambda c: c["root"].update(readonly=True))
    check(out.strip() == "readonly", "root is writable")


@clause("mounts.order", "config.md#mounts", "mounts MUST be mounted in the listed order")
def mounts_order(rt):
    def mutate(config):
        config["mounts"] += [
            {"destination": "/a", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]},
            {"destination": "/a/b", "type": "tmpfs", "source": "tmpfs", "options": ["size=2m"]},
        ]

    out = rt.run_probe("grep -E ' /a(/b)? ' /proc/self/mountinfo | awk '{print $5}'", mutate)
    check(out.split() == ["/a", "/a/b"], f"mount order {out.split()}")


@clause("process.args-env-cwd", "config.md#process", "args, env and cwd MUST be applied")
def process_basics(rt):
    def mutate(config):
        config["process"]["env"].append("CONF=yes")
        config["process"]["cwd"] = "/tmp"

    out = rt.run_probe('echo "$0|$CONF|$(pwd)"', mutate)
    check(out.strip() == "sh|yes|/tmp", f"got {out.strip()!r}")


@clause("process.user", "config.md#user", "uid, gid and additionalGids MUST be applied")
def process_user(rt):
    def mutate(config):
        config["process"]["user"] = {"uid": 1234, "gid": 2345, "additionalGids": [3456]}

    out = rt.run_probe("id -u; id -g; id -G", mutate)
    check(out.split()[:2] == ["1234", "2345"] and "3456" in out.split()[2:], f"got {out.split()}")


@clause("process.umask", "config.md#user", "user.umask MUST be applied")
def process_umask(rt):
    out = rt.run_probe("umask", lambda c: c["process"]["user"].update(umask=0o077))
    check(out.strip() == "0077", f"umask {out.strip()}")


@clause("process.rlimits", "config.md#posix-process", "rlimits MUST be set (soft and hard)")
def process_rlimits(rt):
    def mutate(config):
        config["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 123, "hard": 456}]

    out = rt.run_probe("ulimit -n; ulimit -Hn", mutate)
    check(out.split() == ["123", "456"], f"got {out.split()}")


@clause("process.capabilities", "config.md#linux-process", "the capability sets MUST be exactly the configured ones")
def process_caps(rt):
    def mutate(config):
        config["process"]["capabilities"] = {s: ["CAP_CHOWN", "CAP_KILL"] for s in ("bounding", "effective", "permitted")}

    out = rt.run_probe("grep -E '^Cap(Eff|Prm|Bnd)' /proc/self/status", mutate)
    values = {k: int(v, 16) for k, v in (line.split(":") for line in out.splitlines())}
    want = (1 << 0) | (1 << 5)
    check(values == {"CapPrm": want, "CapEff": want, "CapBnd": want}, f"got {values}")


@clause("process.capabilities-unknown", "config.md#linux-process",
        "an unknown capability (CAP_TEST) MUST generate an error")
def process_caps_unknown(rt):
    cid = rt.new_id()
    bundle = rt.bundle(["true"], lambda c: c["process"]["capabilities"]["bounding"].append("CAP_TEST"))
    result = rt("create", "--bundle", bundle, cid)
    if result.code == 0:
        result = rt("start", cid)
    check(result.code != 0, "CAP_TEST was accepted")


@clause("process.noNewPrivileges", "config.md#linux-process", "noNewPrivileges MUST set no_new_privs")
def process_nnp(rt):
    out = rt.run_probe("grep NoNewPrivs /proc/self/status", lambda c: c["process"].update(noNewPrivileges=True))
    check(out.split() == ["NoNewPrivs:", "1"], f"got {out.strip()}")


@clause("hostname", "config.md#hostname", "hostname MUST be set in the container's UTS namespace")
def hostname(rt):
    out = rt.run_probe("hostname", lambda c: c.update(hostname="conformance"))
    check(out.strip() == "conformance", f"hostname {out.strip()}")


# -- config-linux.md ------------------------------------------------------------------

@clause("namespaces.new", "config-linux.md#namespaces", "a namespace without path MUST be new")
def namespaces_new(rt):
    pid = rt.state(rt.created())["pid"]
    for name in ("pid", "net", "ipc", "uts", "mnt"):
        check(namespace_inode(pid, name) != namespace_inode(os.getpid(), name), f"{name} is the host's")


@clause("namespaces.absent", "config-linux.md#namespaces", "a type not listed MUST be inherited from the runtime")
def namespaces_absent(rt):
    def mutate(config):
        config["linux"]["namespaces"] = [n for n in config["linux"]["namespaces"] if n["type"] != "ipc"]

    pid = rt.state(rt.created(mutate=mutate))["pid"]
    check(namespace_inode(pid, "ipc") == namespace_inode(os.getpid(), "ipc"), "ipc namespace is new")


@clause("namespaces.path", "config-linux.md#namespaces", "a namespace with path MUST be joined")
def namespaces_join(rt):
    first = rt.state(rt.created())["pid"]

    def mutate(config):
        for ns in config["linux"]["namespaces"]:
            if ns["type"] == "network":
                ns["path"] = f"/proc/{first}/ns/net"

    second = rt.state(rt.created(mutate=mutate))["pid"]
    check(namespace_inode(second, "net") == namespace_inode(first, "net"), "network namespace not joined")


@clause("devices.default", "config-linux.md#default-devices",
        "the default devices and /dev symlinks MUST be supplied")
def default_devices(rt):
    out = rt.run_probe("for d in null zero full random urandom tty; do test -c /dev/$d && echo $d; done; "
                       "readlink /dev/fd; readlink /dev/stdin; readlink /dev/ptmx")
    words = out.split()
    check(words[:6] == ["null", "zero", "full", "random", "urandom", "tty"], f"devices {words[:6]}")
    check(words[6:8] == ["/proc/self/fd", "/proc/self/fd/0"], f"symlinks {words[6:8]}")
    check(words[8] in ("pts/ptmx", "/dev/pts/ptmx"), f"/dev/ptmx -> {words[8]}")


@clause("devices.config", "config-linux.md#devices", "linux.devices MUST be created with type, numbers and mode")
def config_devices(rt):
    def mutate(config):
        config["linux"]["devices"] = [{"path": "/dev/conf0", "type": "c", "major": 1, "minor": 5, "fileMode": 0o620}]

    out = rt.run_probe("stat -c '%t:%T %a' /dev/conf0", mutate)
    check(out.strip() == "1:5 620", f"got {out.strip()}")


@clause("sysctl", "config-linux.md#sysctl", "sysctl MUST be set in the container")
def sysctl(rt):
    def mutate(config):
        config["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1"}

    check(rt.run_probe("cat /proc/sys/net/ipv4/ip_forward", mutate).strip() == "1", "sysctl not set")


@clause("maskedPaths", "config-linux.md#masked-paths", "maskedPaths MUST be unreadable from the container")
def masked_paths(rt):
    out = rt.run_probe("cat /proc/timer_list 2>/dev/null | wc -c; ls /proc/acpi 2>/dev/null | wc -l",
                       lambda c: c["linux"].update(maskedPaths=["/proc/timer_list", "/proc/acpi"]))
    check(out.split() == ["0", "0"], f"got {out.split()}")


@clause("readonlyPaths", "config-linux.md#readonly-paths", "readonlyPaths MUST be read-only in the container")
def readonly_paths(rt):
    out = rt.run_probe("echo 1 > /proc/sys/kernel/domainname 2>/dev/null && echo writable || echo readonly",
                       lambda c: c["linux"].update(readonlyPaths=["/proc/sys"]))
    check(out.strip() == "readonly", "/proc/sys is writable")


@clause("rootfsPropagation", "config-linux.md#rootfs-mount-propagation",
        "rootfsPropagation shared/private/unbindable MUST apply to the container's root")
def rootfs_propagation(rt):
    for value, tag in (("shared", "shared:"), ("unbindable", "unbindable")):
        out = rt.run_probe("awk '$5 == \"/\"' /proc/self/mountinfo",
                           lambda c, value=value: c["linux"].update(rootfsPropagation=value))
        check(tag in out.split(" - ")[0], f"{value}: {out.strip()}")


def cgroup_mounts():
    """{controller: mountpoint} of the host's cgroup hierarchies; cgroup2's key is ""."""
    found = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fstype, _source, options = right.split()[:3]
            if fstype == "cgroup2":
                found.setdefault("", left.split()[4])
            elif fstype == "cgroup":
                for option in options.split(","):
                    found.setdefault(option, left.split()[4])
    return found


def cgroup_file(pid, controller, v1_name, v2_name):
    """The host path of pid's file for controller: v1_name in the controller's
    v1 hierarchy, else v2_name in cgroup2; (path, version)."""
    mounts = cgroup_mounts()
    with open(f"/proc/{pid}/cgroup") as f:
        rows = [line.rstrip("\n").split(":", 2) for line in f]
    for _n, controllers, path in rows:
        if controller in controllers.split(",") and controller in mounts:
            return os.path.join(mounts[controller], path.lstrip("/"), v1_name), 1
    for _n, controllers, path in rows:
        if controllers == "" and "" in mounts:
            return os.path.join(mounts[""], path.lstrip("/"), v2_name), 2
    raise Skipped(f"no {controller} controller found")


def read_file(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except FileNotFoundError:
        raise Failed(f"{path} does not exist") from None


@clause("cgroupsPath", "config-linux.md#cgroups-path", "the container's processes MUST be in cgroupsPath")
def cgroups_path(rt):
    path = f"/conformance-{rt.name}-{os.urandom(4).hex()}"
    pid = rt.state(rt.created(mutate=lambda c: c["linux"].update(cgroupsPath=path)))["pid"]
    with open(f"/proc/{pid}/cgroup") as f:
        lines = [line.strip().split(":", 2) for line in f]
    pids_line = [p for _n, c, p in lines if c == "pids" or c == ""]
    check(any(p.endswith(path) for p in pids_line), f"cgroups {pids_line}")


@clause("cgroupsPath.relative", "config-linux.md#cgroups-path",
        "a relative cgroupsPath MAY be placed by the runtime, and the container MUST run there with its limits")
def cgroups_path_relative(rt):
    path = f"conformance-rel-{rt.name}-{os.urandom(4).hex()}"
    pid = rt.state(rt.created(mutate=lambda c: c["linux"].update(
        cgroupsPath=path, resources={"pids": {"limit": 41}})))["pid"]
    pids_max, _version = cgroup_file(pid, "pids", "pids.max", "pids.max")
    check(os.path.dirname(pids_max).endswith("/" + path), f"the init is in {os.path.dirname(pids_max)}")
    check(read_file(pids_max) == "41", "pids.max is not 41")


@clause("resources.pids", "config-linux.md#pids", "pids.limit MUST be applied")
def resources_pids(rt):
    path = f"/conformance-pids-{rt.name}-{os.urandom(4).hex()}"
    pid = rt.state(rt.created(mutate=lambda c: c["linux"].update(cgroupsPath=path, resources={"pids": {"limit": 42}})))["pid"]
    pids_max, _version = cgroup_file(pid, "pids", "pids.max", "pids.max")
    check(read_file(pids_max) == "42", "pids.max is not 42")


# -- more of runtime.md, config.md and config-linux.md --------------------------------

@clause("create.error-no-effect", "runtime.md#create",
        "a create that fails MUST leave no container behind (state fails, the id is free)")
def create_error_no_effect(rt):
    cid = rt.new_id()
    bad = rt.bundle(["true"], lambda c: c["process"].update(cwd="relative/cwd"))
    check(rt("create", "--bundle", bad, cid).code != 0, "an invalid config was accepted")
    check(rt("state", cid).code != 0, "the failed container still has a state")
    check(rt("create", "--bundle", rt.bundle(["sleep", "1000"]), cid).code == 0, "the id is still taken")


@clause("hooks.container-namespace", "config.md#createcontainer-hooks",
        "createContainer and startContainer hooks MUST run in the container's namespaces")
def hooks_in_container(rt):
    log = os.path.join(rt.workdir, f"ns-{rt.name}-{os.urandom(4).hex()}")
    os.makedirs(log)

    def mutate(config):
        config["mounts"].append({"destination": "/hooklog", "type": "bind", "source": log, "options": ["bind"]})
        config["hooks"] = {
            "createContainer": [{"path": "/bin/sh", "args": ["sh", "-c", f"readlink /proc/self/ns/mnt > {log}/cc"]}],
            "startContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "readlink /proc/self/ns/mnt > /hooklog/sc"]}],
        }

    cid = rt.created(mutate=mutate)
    pid = rt.state(cid)["pid"]
    check(rt("start", cid).code == 0, "start failed")
    want = os.readlink(f"/proc/{pid}/ns/mnt") if os.path.exists(f"/proc/{pid}") else None
    for name in ("cc", "sc"):
        path = os.path.join(log, name)
        check(os.path.exists(path), f"the {name} hook did not run")
        with open(path) as f:
            got = f.read().strip()
        check(got != os.readlink("/proc/self/ns/mnt"), f"the {name} hook ran in the runtime's mount namespace")
        if want:
            check(got == want, f"the {name} hook ran in another mount namespace")


@clause("hooks.poststop-after-delete", "config.md#poststop",
        "poststop hooks MUST run after the container is deleted, before delete returns")
def hooks_poststop(rt):
    log = os.path.join(rt.workdir, f"poststop-{rt.name}-{os.urandom(4).hex()}")
    cid = rt.created(mutate=lambda c: c.update(hooks={"poststop": [hook_logger(log, "poststop")]}))
    rt("kill", cid, "KILL")
    rt.wait_status(cid, "stopped")
    check(not os.path.exists(log), "poststop ran before delete")
    check(rt("delete", cid).code == 0, "delete failed")
    entries = read_hook_log(log)
    check([p for p, _ in entries] == ["poststop"], "poststop did not run by the time delete returned")


@clause("hooks.poststop-failure-warns", "config.md#poststop",
        "a failing poststop hook MUST only log a warning; delete continues and removes the container")
def poststop_failure(rt):
    cid = rt.created(mutate=lambda c: c.update(hooks={"poststop": [{"path": "/bin/false"}]}))
    rt("kill", cid, "KILL")
    rt.wait_status(cid, "stopped")
    check(rt("delete", cid).code == 0, "delete failed because of a poststop hook")
    check(rt("state", cid).code != 0, "the container is still there after delete")


@clause("user.mappings", "config-linux.md#user-namespace-mappings",
        "uidMappings/gidMappings MUST be written for a new user namespace")
def user_mappings(rt):
    mapping = [{"containerID": 0, "hostID": 200000, "size": 65536}]

    def mutate(config):
        config["linux"]["namespaces"].append({"type": "user"})
        config["linux"]["uidMappings"] = mapping
        config["linux"]["gidMappings"] = mapping
        config["linux"].pop("resources", None)
        config["mounts"] = [m for m in config["mounts"] if m["destination"] != "/sys/fs/cgroup"]
        for m in config["mounts"]:
            if m["destination"] == "/sys":
                m.update(type="none", source="/sys", options=["rbind", "nosuid", "noexec", "nodev", "ro"])

    pid = rt.state(rt.created(mutate=mutate))["pid"]
    with open(f"/proc/{pid}/uid_map") as f:
        check(f.read().split() == ["0", "200000", "65536"], "uid_map differs")
    with open(f"/proc/{pid}/gid_map") as f:
        check(f.read().split() == ["0", "200000", "65536"], "gid_map differs")


@clause("domainname", "config.md#domainname", "domainname MUST be set in the container's UTS namespace")
def domainname(rt):
    out = rt.run_probe("cat /proc/sys/kernel/domainname", lambda c: c.update(domainname="conformance.test"))
    check(out.strip() == "conformance.test", f"domainname {out.strip()}")


@clause("mounts.options", "config.md#mounts", "mount options (ro, nosuid) MUST apply to the mount")
def mounts_options(rt):
    def mutate(config):
        config["mounts"].append({"destination": "/data", "type": "tmpfs", "source": "tmpfs",
                                 "options": ["ro", "nosuid", "size=1m"]})

    out = rt.run_probe("awk '$5 == \"/data\" {print $6}' /proc/self/mountinfo", mutate)
    opts = out.strip().split(",")
    check("ro" in opts and "nosuid" in opts, f"options {opts}")


@clause("process.oomScoreAdj", "config.md#linux-process", "oomScoreAdj MUST be written for the process")
def oom_score_adj(rt):
    out = rt.run_probe("cat /proc/self/oom_score_adj", lambda c: c["process"].update(oomScoreAdj=321))
    check(out.strip() == "321", f"oom_score_adj {out.strip()}")


@clause("resources.memory", "config-linux.md#memory",
        "memory.limit, reservation and swap MUST be applied to the container's cgroup")
def resources_memory(rt):
    path = f"/conformance-mem-{rt.name}-{os.urandom(4).hex()}"
    limit = 64 * 1024 * 1024
    pid = rt.state(rt.created(mutate=lambda c: c["linux"].update(
        cgroupsPath=path, resources={"memory": {"limit": limit, "reservation": limit // 2}})))["pid"]
    limit_file, version = cgroup_file(pid, "memory", "memory.limit_in_bytes", "memory.max")
    check(int(read_file(limit_file)) == limit, f"{limit_file} differs")
    low = os.path.join(os.path.dirname(limit_file), "memory.soft_limit_in_bytes" if version == 1 else "memory.low")
    check(int(read_file(low)) == limit // 2, f"{low} differs")


@clause("resources.cpu", "config-linux.md#cpu", "cpu.quota and cpu.period MUST be applied to the container's cgroup")
def resources_cpu(rt):
    path = f"/conformance-cpu-{rt.name}-{os.urandom(4).hex()}"
    pid = rt.state(rt.created(mutate=lambda c: c["linux"].update(
        cgroupsPath=path, resources={"cpu": {"quota": 30000, "period": 100000}})))["pid"]
    quota, version = cgroup_file(pid, "cpu", "cpu.cfs_quota_us", "cpu.max")
    wanted = "30000" if version == 1 else "30000 100000"
    check(read_file(quota) == wanted, f"{quota} is {read_file(quota)!r}, not {wanted!r}")


@clause("resources.devices", "config-linux.md#allowed-device-list",
        "a device node the allow list does not allow MUST NOT be opened in the container; one it allows MAY")
def resources_devices(rt):
    def mutate(allowed):
        def change(config):
            # The host's /dev/kmsg (c 1:11) bound in: a node no default rule
            # allows, which any host has, and which opens for writing without
            # a capability.
            config["mounts"].append({"destination": "/dev/kmsg", "type": "bind", "source": "/dev/kmsg",
                                     "options": ["bind"]})
            config["linux"]["resources"] = {"devices": [{"allow": False, "access": "rwm"}] + (
                [{"allow": True, "type": "c", "major": 1, "minor": 11, "access": "w"}] if allowed else [])}
        return change

    probe = "(: > /dev/kmsg) 2>/dev/null && echo opened; true"
    check("opened" not in rt.run_probe(probe, mutate(False)), "a denied device (c 1:11) was opened")
    check("opened" in rt.run_probe(probe, mutate(True)), "an allowed device (c 1:11) was not opened")


@clause("resources.memory.oom", "config-linux.md#memory",
        "a process over memory.limit is killed, and its cgroup counts the OOM kill")
def resources_memory_oom(rt):
    path = f"/conformance-oom-{rt.name}-{os.urandom(4).hex()}"
    limit = 8 * 1024 * 1024
    cid = rt.created(args=("sh", "-c", "sleep 1; head -c 64m /dev/zero | tail > /dev/null; sleep 1000"),
                     mutate=lambda c: c["linux"].update(
                         cgroupsPath=path, resources={"memory": {"limit": limit, "swap": limit}}))
    pid = rt.state(cid)["pid"]
    events, version = cgroup_file(pid, "memory", "memory.oom_control", "memory.events")
    check(rt("start", cid).code == 0, "start failed")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        counts = dict(line.split() for line in read_file(events).splitlines())
        if int(counts.get("oom_kill", 0)) > 0:
            return
        time.sleep(0.1)
    raise Failed(f"no oom_kill counted in {events}: {counts}")


@clause("seccomp.getcwd-blocked", "config-linux.md#seccomp",
        "a seccomp profile MUST be applied, even one that blocks getcwd, and the container still starts")
def seccomp_getcwd(rt):
    def mutate(config):
        config["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
                                      "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}

    out = rt.run_probe("/bin/pwd 2>&1; true", mutate)  # the applet calls getcwd; the shell builtin may not
    check("not permitted" in out.lower(), f"getcwd was not blocked: {out.strip()!r}")


@clause("process.terminal", "config.md#process",
        "terminal true: the process MUST get a pty, its master sent to --console-socket")
def terminal(rt):
    import socket
    import threading

    path = os.path.join(rt.workdir, f"console-{rt.name}-{os.urandom(4).hex()}.sock")
    received = []

    def serve():
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
            server.bind(path)
            server.listen(1)
            server.settimeout(20)
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                received.extend(socket.recv_fds(conn, 1024, 1)[1])

    thread = threading.Thread(target=serve)
    thread.start()
    while not os.path.exists(path):
        time.sleep(0.005)
    cid = rt.new_id()
    bundle = rt.bundle(["sh", "-c", "tty"], lambda c: c["process"].update(terminal=True))
    result = rt("create", "--bundle", bundle, "--console-socket", path, cid)
    thread.join()
    check(result.code == 0, f"create failed: {result.err.strip()}")
    check(len(received) == 1, "no pty master arrived")
    master = received[0]
    try:
        check(rt("start", cid).code == 0, "start failed")
        out = b""
        while True:
            try:
                chunk = os.read(master, 1024)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(master)
    check(out.decode().strip().startswith("/dev/pts/"), f"tty said {out!r}")
