"""linux.resources -> cgroup files (create).

Each supported field maps to a file of one controller, per cgroup version.
A field this module does not apply is refused, never dropped silently.
"""
import posix  # not os: see pyoci.paths

from pyoci import paths
from pyoci.errors import ConfigError
from pyoci.log import log

# Devices every container may use, added after the config's rules (as runc does).
DEFAULT_ALLOWED_DEVICES = (
    "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",  # null zero full random urandom
    "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm", "c 10:200 rwm",  # tty console ptmx pts tun
)

SUPPORTED = {
    "memory": {"limit", "reservation", "swap", "kernel", "kernelTCP", "swappiness", "disableOOMKiller",
               "useHierarchy", "checkBeforeUpdate"},
    "pids": {"limit"},
    "cpu": {"shares", "quota", "period", "cpus", "mems"},
    "devices": None,
}


def _write(directory, name, value, field):
    if directory is None:
        raise ConfigError(f"{field}: the host has no cgroup controller for {name}")
    try:
        with open(paths.join(directory, name), "w") as f:
            f.write(str(value))
    except OSError as e:
        raise ConfigError(f"{field}: cannot write {value} to {name}: {posix.strerror(e.errno).lower()}") from None


def _v1_dir(dirs, hierarchies, controller):
    for h in hierarchies:
        if not h.v2 and controller in h.controllers:
            return dirs[h.mountpoint]
    return None


def _v2_dir(dirs, hierarchies):
    for h in hierarchies:
        if h.v2:
            return dirs[h.mountpoint]
    return None


def device_rule(rule):
    kind = rule.get("type", "a")
    major = "*" if rule.get("major", -1) in (None, -1) else rule["major"]
    minor = "*" if rule.get("minor", -1) in (None, -1) else rule["minor"]
    if kind == "a":
        return "a"
    return f"{kind} {major}:{minor} {rule.get('access', 'rwm')}"


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


def apply(resources, dirs, hierarchies, config_devices=()):
    check_supported(resources)
    check_memory_swap(resources.get("memory", {}))
    v1 = any(not h.v2 and h.controllers for h in hierarchies)
    if v1:
        _apply_v1(resources, dirs, hierarchies, config_devices)
    else:
        _apply_v2(resources, dirs, hierarchies)


def _apply_v1(res, dirs, hierarchies, config_devices):
    _apply_memory_v1(res.get("memory", {}), _v1_dir(dirs, hierarchies, "memory"))
    if "limit" in res.get("pids", {}):
        limit = res["pids"]["limit"]
        _write(_v1_dir(dirs, hierarchies, "pids"), "pids.max", "max" if limit <= 0 else limit, "linux.resources.pids.limit")
    cpu = res.get("cpu", {})
    d = _v1_dir(dirs, hierarchies, "cpu")
    for key, name in (("shares", "cpu.shares"), ("period", "cpu.cfs_period_us"), ("quota", "cpu.cfs_quota_us")):
        if key in cpu:
            _write(d, name, cpu[key], f"linux.resources.cpu.{key}")
    d = _v1_dir(dirs, hierarchies, "cpuset")
    for key, name in (("cpus", "cpuset.cpus"), ("mems", "cpuset.mems")):
        if key in cpu:
            _write(d, name, cpu[key], f"linux.resources.cpu.{key}")
    d = _v1_dir(dirs, hierarchies, "devices")
    if d and "devices" in res:
        for i, rule in enumerate(res["devices"]):
            _write(d, "devices.allow" if rule["allow"] else "devices.deny", device_rule(rule), f"linux.resources.devices[{i}]")
        extra = [f"{'c' if dev['type'] in 'cu' else dev['type']} {dev['major']}:{dev['minor']} rwm"
                 for dev in config_devices if dev["type"] != "p"]
        for rule in DEFAULT_ALLOWED_DEVICES + tuple(extra):
            _write(d, "devices.allow", rule, "linux.resources.devices")


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
            _write(d, name, mem[key], f"linux.resources.memory.{key}")
    # memory.kmem.limit_in_bytes still exists but has been a no-op since Linux 6.1.
    _warn_kernel_memory(mem, ("kernel",))
    if mem.get("disableOOMKiller"):
        _write(d, "memory.oom_control", 1, "linux.resources.memory.disableOOMKiller")
    if "useHierarchy" in mem:
        _write(d, "memory.use_hierarchy", int(mem["useHierarchy"]), "linux.resources.memory.useHierarchy")
    # checkBeforeUpdate only concerns `update`.


def _apply_memory_v2(mem, d):
    for key, name in (("limit", "memory.max"), ("reservation", "memory.low")):
        if key in mem:
            _write(d, name, "max" if mem[key] < 0 else mem[key], f"linux.resources.memory.{key}")
    if "swap" in mem:
        swap = mem["swap"]
        # v1 counts memory+swap, v2 swap alone.
        value = "max" if swap < 0 else swap - max(mem.get("limit", 0), 0)
        _write(d, "memory.swap.max", value, "linux.resources.memory.swap")
    # v2 charges kernel and socket memory to memory.max; there is nothing separate to set.
    _warn_kernel_memory(mem, ("kernel", "kernelTCP"))
    # v2 has no counterpart for these: a value that would change behaviour is refused.
    if mem.get("swappiness") is not None:
        raise ConfigError("linux.resources.memory.swappiness: cgroup v2 has no per-cgroup swappiness")
    if mem.get("disableOOMKiller"):
        raise ConfigError("linux.resources.memory.disableOOMKiller: cgroup v2 cannot disable the OOM killer")
    if mem.get("useHierarchy") is False:
        raise ConfigError("linux.resources.memory.useHierarchy: cgroup v2 is always hierarchical")


def _apply_v2(res, dirs, hierarchies):
    d = _v2_dir(dirs, hierarchies)
    _apply_memory_v2(res.get("memory", {}), d)
    if "limit" in res.get("pids", {}):
        limit = res["pids"]["limit"]
        _write(d, "pids.max", "max" if limit <= 0 else limit, "linux.resources.pids.limit")
    cpu = res.get("cpu", {})
    if "shares" in cpu:
        # The conversion runc and crun use between v1 shares and v2 weight.
        shares = cpu["shares"]
        weight = 1 + ((shares - 2) * 9999) // 262142 if shares else 100
        _write(d, "cpu.weight", weight, "linux.resources.cpu.shares")
    if "quota" in cpu or "period" in cpu:
        quota = cpu.get("quota", -1)
        _write(d, "cpu.max", f"{'max' if quota <= 0 else quota} {cpu.get('period', 100000)}", "linux.resources.cpu.quota")
    for key, name in (("cpus", "cpuset.cpus"), ("mems", "cpuset.mems")):
        if key in cpu:
            _write(d, name, cpu[key], f"linux.resources.cpu.{key}")
    if res.get("devices"):
        # v2 device rules need a BPF program, which pyoci does not load yet.
        log.warning("linux.resources.devices: not enforced on cgroup v2 by this pyoci version")
