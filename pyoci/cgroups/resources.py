"""linux.resources -> cgroup files (create, update).

Each supported field maps to a file of one controller, per cgroup version.
A field this module does not apply is refused, never dropped silently.
"""
import posix  # not os: see pyoci.core.paths

from pyoci.core import paths
from pyoci.cgroups import write_file
from pyoci.core.errors import ConfigError
from pyoci.core.log import log

# Devices every container may use, added after the config's rules (as runc does).
DEFAULT_ALLOWED_DEVICES = (
    "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",  # null zero full random urandom
    "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm", "c 10:200 rwm",  # tty console ptmx pts tun
)

SUPPORTED = {
    "memory": {"limit", "reservation", "swap", "kernel", "kernelTCP", "swappiness", "disableOOMKiller",
               "useHierarchy", "checkBeforeUpdate"},
    "pids": {"limit"},
    "cpu": {"shares", "quota", "burst", "period", "realtimeRuntime", "realtimePeriod", "cpus", "mems", "idle"},
    "blockIO": {"weight", "leafWeight", "weightDevice", "throttleReadBpsDevice", "throttleWriteBpsDevice",
                "throttleReadIOPSDevice", "throttleWriteIOPSDevice"},
    "hugepageLimits": None,
    "network": {"classID", "priorities"},
    "rdma": None,
    "unified": None,
    "devices": None,
}
# Families in pyoci.cgroups.extra_controllers, imported only for a config that sets one.
EXTRA = ("blockIO", "hugepageLimits", "network", "rdma", "unified")


def write(directory, name, value, field):
    if directory is None:
        raise ConfigError(f"{field}: the host has no cgroup controller for {name}")
    try:
        write_file(paths.join(directory, name), value)
    except OSError as e:
        raise ConfigError(f"{field}: cannot write {value} to {name}: {posix.strerror(e.errno).lower()}") from None


def v1_hierarchy(hierarchies, controller):
    return next((h for h in hierarchies if not h.v2 and controller in h.controllers), None)


def v2_hierarchy(hierarchies):
    return next((h for h in hierarchies if h.v2), None)


# dirs may lack a hierarchy: a rootless container skips those it may not use.
def v1_dir(dirs, hierarchies, controller):
    h = v1_hierarchy(hierarchies, controller)
    return dirs.get(h.mountpoint) if h else None


def v2_dir(dirs, hierarchies):
    h = v2_hierarchy(hierarchies)
    return dirs.get(h.mountpoint) if h else None


def hand_down(res, dirs, hierarchies, made):
    """Enable each cgroup2 controller res needs in the cgroup.subtree_control
    of the container's ancestors, top down, where pyoci may: in the cgroups
    it made, and in the root, which the kernel exempts from the rules that
    make enabling a controller elsewhere harmful (a cgroup with processes
    cannot have children with domain controllers; a threaded controller
    enabled there turns it "domain threaded" and breaks its later domain
    children).  Never in another existing cgroup, the caller's own above
    all: v2_dir_for then names the one that holds the controller back."""
    h = v2_hierarchy(hierarchies)
    if h is None or h.mountpoint not in dirs:
        return
    wanted = [(field, v2) for field, v1, v2 in controllers_needed(res)
              if v2 and not (v1 and v1_hierarchy(hierarchies, v1))]
    writable = set(made) | {h.mountpoint}
    directory = h.mountpoint
    for part in [""] + dirs[h.mountpoint][len(h.mountpoint):].strip("/").split("/")[:-1]:
        directory = paths.join(directory, part) if part else directory
        if directory not in writable:
            continue
        try:
            available = _read_words(paths.join(directory, "cgroup.controllers"))
            enabled = _read_words(paths.join(directory, "cgroup.subtree_control"))
        except FileNotFoundError:  # not a cgroup2 tree (a stand-in in the tests)
            return
        for field, controller in wanted:
            if controller in available and controller not in enabled:
                write(directory, "cgroup.subtree_control", "+" + controller, f"linux.resources.{field}")
                enabled.append(controller)


def v2_dir_for(controller, dirs, hierarchies, field):
    """The cgroup2 directory for controller, None when the host's cgroup2
    has no such controller.  A controller that does not reach the
    container's cgroup (hand_down enabled it wherever pyoci may) is an error
    that names the cgroup that holds it back, and why."""
    h = v2_hierarchy(hierarchies)
    if h is None or h.mountpoint not in dirs:
        return None
    target = dirs[h.mountpoint]
    try:
        offered = _read_words(paths.join(target, "cgroup.controllers"))
    except FileNotFoundError:  # not a cgroup2 tree (a stand-in in the tests): nothing to check
        return target
    if controller in offered:
        return target
    if controller not in _read_words(paths.join(h.mountpoint, "cgroup.controllers")):
        return None
    directory = h.mountpoint
    for part in target[len(h.mountpoint):].strip("/").split("/"):
        if controller not in _read_words(paths.join(directory, "cgroup.subtree_control")):
            raise ConfigError(f"{field}: the {controller} controller does not reach the container's cgroup: "
                              f"{_held_back_because(directory, controller, directory == h.mountpoint)}")
        directory = paths.join(directory, part)
    raise ConfigError(f"{field}: the {controller} controller is not enabled in {target}")


def _read_words(path):
    with open(path) as f:
        return f.read().split()


def _held_back_because(directory, controller, is_root):
    """Why cgroup directory (which exists, and which pyoci did not make)
    does not enable controller for its children, in the kernel's terms.
    The root has no type and may hold processes: the rules exempt it."""
    kind = "domain" if is_root else " ".join(_read_words(paths.join(directory, "cgroup.type")))
    if kind != "domain":
        return (f"cgroup {directory} is {kind}, and only threaded controllers pass a threaded cgroup "
                f"(set linux.cgroupsPath outside that subtree)")
    if not is_root and _read_words(paths.join(directory, "cgroup.procs")):
        return (f"cgroup {directory} holds processes, and cgroup v2 lets no cgroup with processes "
                f"enable controllers for its children (the no-internal-process rule): set linux.cgroupsPath "
                f"outside it")
    return (f"cgroup {directory} does not enable it for its children, and pyoci changes only the cgroups "
            f"it makes: enable it there (echo +{controller} > {directory}/cgroup.subtree_control) or set "
            f"linux.cgroupsPath where it is enabled")


def device_rule(rule):
    kind = rule.get("type", "a")
    major = "*" if rule.get("major", -1) in (None, -1) else rule["major"]
    minor = "*" if rule.get("minor", -1) in (None, -1) else rule["minor"]
    if kind == "a":
        return "a"
    return f"{kind} {major}:{minor} {rule.get('access', 'rwm')}"


def always_allowed(config_devices):
    """Rules added after the config's: the usual devices, and the nodes
    linux.devices creates (a fifo needs none), as "c 1:3 rwm"."""
    made = [f"{'c' if dev['type'] in 'cu' else dev['type']} {dev['major']}:{dev['minor']} rwm"
            for dev in config_devices if dev["type"] != "p"]
    return DEFAULT_ALLOWED_DEVICES + tuple(made)


def check_supported(resources):
    for key, value in resources.items():
        if key not in SUPPORTED:
            raise ConfigError(f"linux.resources.{key}: not supported by pyoci yet")
        allowed = SUPPORTED[key]
        if allowed is not None:
            for sub in value:
                if sub not in allowed:
                    raise ConfigError(f"linux.resources.{key}.{sub}: not supported by pyoci yet")


def check_memory_swap(mem):
    # swap is memory+swap (v1's meaning, which the spec keeps on v2 too).
    limit, swap = mem.get("limit", -1), mem.get("swap", -1)
    if 0 <= swap < limit:
        raise ConfigError(f"linux.resources.memory.swap: {swap} is below memory.limit {limit} (swap counts memory plus swap)")


def device_record(config_devices, program):
    """What an update needs to build the v2 device program as create did
    and to replace the one attached: linux.devices, whose nodes stay
    allowed, and the id of the program attached (apply's result), or None."""
    return {"nodes": list(config_devices), "program": program}


def apply(resources, dirs, hierarchies, config_devices=(), made=(), devices_before=(), program_before=None):
    """Write resources into the container's cgroups dirs (create, update);
    made: the cgroups pyoci made for it, where it may enable controllers.
    An update's device rules go on top of devices_before, the rules in
    force: v1 takes them one by one; the v2 program is built from all of
    them and takes the place of program_before (device_record).  Returns
    the id of the v2 device program attached, or program_before where none
    was."""
    check_supported(resources)
    check_memory_swap(resources.get("memory", {}))
    hand_down(resources, dirs, hierarchies, made)
    v1 = any(h.has_controllers for h in hierarchies)
    if v1:
        _apply_v1(resources, dirs, hierarchies, config_devices)
        return program_before
    return _apply_v2(resources, dirs, hierarchies, config_devices, devices_before, program_before, made)


def _apply_v1(res, dirs, hierarchies, config_devices):
    _apply_memory_v1(res.get("memory", {}), v1_dir(dirs, hierarchies, "memory"))
    if "limit" in res.get("pids", {}):
        limit = res["pids"]["limit"]
        write(v1_dir(dirs, hierarchies, "pids"), "pids.max", "max" if limit <= 0 else limit, "linux.resources.pids.limit")
    cpu = res.get("cpu", {})
    d = v1_dir(dirs, hierarchies, "cpu")
    # Periods before what is measured in them; rt_period before rt_runtime.
    for key, name in (("shares", "cpu.shares"), ("period", "cpu.cfs_period_us"), ("quota", "cpu.cfs_quota_us"),
                      ("burst", "cpu.cfs_burst_us"), ("realtimePeriod", "cpu.rt_period_us"),
                      ("realtimeRuntime", "cpu.rt_runtime_us"), ("idle", "cpu.idle")):
        if key in cpu:
            write(d, name, cpu[key], f"linux.resources.cpu.{key}")
    if any(res.get(key) for key in EXTRA):
        from pyoci.cgroups import extra_controllers

        extra_controllers.apply_v1(res, dirs, hierarchies)
    d = v1_dir(dirs, hierarchies, "cpuset")
    for key, name in (("cpus", "cpuset.cpus"), ("mems", "cpuset.mems")):
        if key in cpu:
            write(d, name, cpu[key], f"linux.resources.cpu.{key}")
    d = v1_dir(dirs, hierarchies, "devices")
    if d and "devices" in res:
        for i, rule in enumerate(res["devices"]):
            write(d, "devices.allow" if rule["allow"] else "devices.deny", device_rule(rule), f"linux.resources.devices[{i}]")
        for rule in always_allowed(config_devices):
            write(d, "devices.allow", rule, "linux.resources.devices")


def _warn_kernel_memory(mem, fields):
    for key in fields:
        if key in mem:
            log.warning(f"linux.resources.memory.{key}: ignored; the kernel no longer enforces kernel memory limits")


def _apply_memory_v1(mem, d):
    # Limit before memsw: the kernel refuses a memory+swap limit below the memory limit.
    for key, name in (("limit", "memory.limit_in_bytes"), ("reservation", "memory.soft_limit_in_bytes"),
                      ("swap", "memory.memsw.limit_in_bytes"), ("kernelTCP", "memory.kmem.tcp.limit_in_bytes"),
                      ("swappiness", "memory.swappiness")):
        if key in mem:
            write(d, name, mem[key], f"linux.resources.memory.{key}")
    # memory.kmem.limit_in_bytes still exists but has been a no-op since Linux 6.1.
    _warn_kernel_memory(mem, ("kernel",))
    if mem.get("disableOOMKiller"):
        write(d, "memory.oom_control", 1, "linux.resources.memory.disableOOMKiller")
    if "useHierarchy" in mem:
        write(d, "memory.use_hierarchy", int(mem["useHierarchy"]), "linux.resources.memory.useHierarchy")
    # checkBeforeUpdate only concerns `update`.


def _apply_memory_v2(mem, d):
    for key, name in (("limit", "memory.max"), ("reservation", "memory.low")):
        if key in mem:
            write(d, name, "max" if mem[key] < 0 else mem[key], f"linux.resources.memory.{key}")
    if "swap" in mem:
        swap = mem["swap"]
        # v1 counts memory+swap, v2 swap alone.
        value = "max" if swap < 0 else swap - max(mem.get("limit", 0), 0)
        write(d, "memory.swap.max", value, "linux.resources.memory.swap")
    # v2 charges kernel and socket memory to memory.max; there is nothing separate to set.
    _warn_kernel_memory(mem, ("kernel", "kernelTCP"))
    # v2 has no counterpart for these: a value that would change behaviour is refused.
    if mem.get("swappiness") is not None:
        raise ConfigError("linux.resources.memory.swappiness: cgroup v2 has no per-cgroup swappiness")
    if mem.get("disableOOMKiller"):
        raise ConfigError("linux.resources.memory.disableOOMKiller: cgroup v2 cannot disable the OOM killer")
    if mem.get("useHierarchy") is False:
        raise ConfigError("linux.resources.memory.useHierarchy: cgroup v2 is always hierarchical")


def controllers_needed(res):
    """(field, v1 controller, cgroup2 controller) for each controller res
    sets; None where that version has none (cgroup2 has no net_cls, v1 no
    unified files, which take the cgroup2 directory itself, "")."""
    cpu = set(res.get("cpu", {}))
    network = res.get("network", {})
    wanted = (("memory", "memory", "memory", bool(res.get("memory"))),
              ("pids", "pids", "pids", bool(res.get("pids"))),
              ("cpu", "cpu", "cpu", bool(cpu & {"shares", "quota", "period", "burst", "idle"})),
              ("cpu", "cpu", None, bool(cpu & {"realtimeRuntime", "realtimePeriod"})),
              ("cpu", "cpuset", "cpuset", bool(cpu & {"cpus", "mems"})),
              ("blockIO", "blkio", "io", bool(res.get("blockIO"))),
              ("hugepageLimits", "hugetlb", "hugetlb", bool(res.get("hugepageLimits"))),
              ("network", "net_cls", None, "classID" in network),
              ("network", "net_prio", None, bool(network.get("priorities"))),
              ("rdma", "rdma", "rdma", bool(res.get("rdma"))),
              ("unified", None, "", bool(res.get("unified"))))
    return [(field, v1, v2) for field, v1, v2, needed in wanted if needed]


# The cgroup2 controllers _apply_v2 enables itself; extra_controllers enables the rest.
CORE_V2 = ("memory", "pids", "cpu", "cpuset", "io")


def _v2_controllers(res):
    """(field, cgroup2 controller) for each core controller res needs."""
    return [(field, v2) for field, _v1, v2 in controllers_needed(res) if v2 in CORE_V2]


def _apply_v2(res, dirs, hierarchies, config_devices=(), devices_before=(), program_before=None, made=()):
    for key, controller in _v2_controllers(res):
        if v2_dir_for(controller, dirs, hierarchies, f"linux.resources.{key}") is None:
            raise ConfigError(f"linux.resources.{key}: the host's cgroup2 has no {controller} controller")
    d = v2_dir(dirs, hierarchies)
    _apply_memory_v2(res.get("memory", {}), d)
    if "limit" in res.get("pids", {}):
        limit = res["pids"]["limit"]
        write(d, "pids.max", "max" if limit <= 0 else limit, "linux.resources.pids.limit")
    cpu = res.get("cpu", {})
    if "shares" in cpu:
        # The conversion runc and crun use between v1 shares and v2 weight.
        shares = cpu["shares"]
        weight = 1 + ((shares - 2) * 9999) // 262142 if shares else 100
        write(d, "cpu.weight", weight, "linux.resources.cpu.shares")
    if "quota" in cpu or "period" in cpu:
        # cpu.max holds both; a value left out (an update of one) keeps what is
        # there: the kernel keeps the period when only a quota is written.
        if "quota" in cpu:
            quota = "max" if cpu["quota"] <= 0 else cpu["quota"]
        else:
            with open(paths.join(d, "cpu.max")) as f:
                quota = f.read().split()[0]
        value = f"{quota} {cpu['period']}" if "period" in cpu else str(quota)
        write(d, "cpu.max", value, "linux.resources.cpu.quota" if "quota" in cpu else "linux.resources.cpu.period")
    if "burst" in cpu:
        write(d, "cpu.max.burst", cpu["burst"], "linux.resources.cpu.burst")
    if "idle" in cpu:
        write(d, "cpu.idle", cpu["idle"], "linux.resources.cpu.idle")
    for key in ("realtimeRuntime", "realtimePeriod"):
        if cpu.get(key):
            raise ConfigError(f"linux.resources.cpu.{key}: cgroup v2 has no real-time CPU bandwidth")
    if any(res.get(key) for key in EXTRA):
        from pyoci.cgroups import extra_controllers

        extra_controllers.apply_v2(res, dirs, hierarchies)
    for key, name in (("cpus", "cpuset.cpus"), ("mems", "cpuset.mems")):
        if key in cpu:
            write(d, name, cpu[key], f"linux.resources.cpu.{key}")
    if "devices" in res:
        from pyoci.cgroups.device_program import attach, in_force, parse_rule

        rules = in_force(list(devices_before) + list(res["devices"]))
        return attach(d, rules + [parse_rule(r) for r in always_allowed(config_devices)], replacing=program_before,
                      sole=d in made)
    return program_before
