"""A container's resource use, read from its cgroups (events), in runc's
stats format: the fields of runc's types.Stats (its names, bytes and
nanoseconds), from v1 files or their cgroup2 counterparts, whichever the
host has.

What is printed is what Go's encoding/json makes of runc's structs, since
engines decode it with those structs (containerd's go-runc): every section
is there even when the host lacks its controller (a zero struct), and a
field tagged omitempty is left out when it is zero or empty.  The
sections that need more than the cgroups (intel_rdt, network_interfaces)
are pyoci.runtime.events's."""
import posix  # not os: see pyoci.core.paths

from pyoci.core import paths

NS_PER_TICK = 10**9 // 100  # cpuacct.stat counts USER_HZ ticks (100 on Linux)
# types.CPUSet's numeric fields, in its order; each is a cpuset.<name> file on v1.
CPUSET_FLAGS = ("cpu_exclusive", "mem_hardwall", "mem_exclusive", "memory_migrate", "memory_spread_page",
                "memory_spread_slab", "memory_pressure", "sched_load_balance", "sched_relax_domain_level")


def _read(d, name):
    if d is None:
        return None
    try:
        with open(paths.join(d, name)) as f:
            return f.read()
    except OSError:
        return None


def _number(text):
    text = (text or "").strip()
    return None if not text else (0 if text == "max" else int(text))


def _flat(text):
    """'key value' lines as {key: int}."""
    out = {}
    for line in (text or "").splitlines():
        key, _, value = line.partition(" ")
        if value.strip().lstrip("-").isdigit():
            out[key] = int(value)
    return out


def _omit(fields, keep=()):
    """fields as encoding/json writes a runc struct: a field tagged
    omitempty (every one not in keep) is left out when 0, "" or empty.  A
    struct-valued field is never omitted there, so it goes in keep."""
    return {key: value for key, value in fields.items() if key in keep or value not in (0, "", None, [], {})}


def cpu_list(text):
    """A cpuset list ("0-3,8,10-11") as the numbers it names."""
    out = []
    for part in (text or "").strip().split(","):
        if part:
            first, _, last = part.partition("-")
            out.extend(range(int(first), int(last or first) + 1))
    return out


def percpu_modes(text):
    """cpuacct.usage_all ("cpu user system" then a line per CPU, in ns) as
    (kernel, user) lists, runc's percpu_kernel and percpu_user."""
    kernel, user = [], []
    for line in (text or "").splitlines()[1:]:
        fields = line.split()
        if len(fields) == 3:
            user.append(int(fields[1]))
            kernel.append(int(fields[2]))
    return kernel, user


def _cpu(v1_cpuacct, v1_cpu, v2):
    usage = _number(_read(v1_cpuacct, "cpuacct.usage"))
    if usage is not None:
        # Kernel and user totals from cpuacct.stat's ticks, as runc takes them (not usage_sys/usage_user).
        ticks = _flat(_read(v1_cpuacct, "cpuacct.stat"))
        kernel, user = percpu_modes(_read(v1_cpuacct, "cpuacct.usage_all"))
        percpu = [int(n) for n in (_read(v1_cpuacct, "cpuacct.usage_percpu") or "").split()]
        cpu_usage = {"total": usage, "percpu": percpu, "percpu_kernel": kernel, "percpu_user": user,
                     "kernel": ticks.get("system", 0) * NS_PER_TICK, "user": ticks.get("user", 0) * NS_PER_TICK}
        stat = _flat(_read(v1_cpu, "cpu.stat"))
        throttled_time = stat.get("throttled_time", 0)
    else:
        # cgroup2 keeps no per-CPU times: runc leaves the percpu lists out there.
        stat = _flat(_read(v2, "cpu.stat"))
        cpu_usage = {"total": stat.get("usage_usec", 0) * 1000,
                     "kernel": stat.get("system_usec", 0) * 1000, "user": stat.get("user_usec", 0) * 1000}
        throttled_time = stat.get("throttled_usec", 0) * 1000
    return {"usage": _omit(cpu_usage, keep=("kernel", "user")),
            "throttling": _omit({"periods": stat.get("nr_periods", 0), "throttledPeriods": stat.get("nr_throttled", 0),
                                 "throttledTime": throttled_time})}


def _cpuset(v1, v2):
    if v1 is not None:
        cpus, mems = _read(v1, "cpuset.cpus"), _read(v1, "cpuset.mems")
        flags = {name: _number(_read(v1, "cpuset." + name)) or 0 for name in CPUSET_FLAGS}
    else:
        # cgroup2 has none of v1's flags; what the cgroup may use is the
        # effective set (its own cpuset.cpus is empty unless set).
        cpus, mems = _read(v2, "cpuset.cpus.effective"), _read(v2, "cpuset.mems.effective")
        flags = dict.fromkeys(CPUSET_FLAGS, 0)
    fields = {"cpus": cpu_list(cpus), "cpu_exclusive": flags["cpu_exclusive"], "mems": cpu_list(mems), **flags}
    return _omit(fields, keep=CPUSET_FLAGS)


def _memory_entry(limit=0, usage=0, max=0, failcnt=0):
    return _omit({"limit": limit, "usage": usage, "max": max, "failcnt": failcnt}, keep=("limit", "failcnt"))


def _memory(v1, v2):
    entries = dict.fromkeys(("usage", "swap", "kernel", "kernelTCP"), {})
    if _read(v1, "memory.usage_in_bytes") is not None:
        def entry(prefix):
            return {"limit": _number(_read(v1, prefix + "limit_in_bytes")) or 0,
                    "usage": _number(_read(v1, prefix + "usage_in_bytes")) or 0,
                    "max": _number(_read(v1, prefix + "max_usage_in_bytes")) or 0,
                    "failcnt": _number(_read(v1, prefix + "failcnt")) or 0}

        raw = _flat(_read(v1, "memory.stat"))
        cache = raw.get("total_cache", raw.get("cache", 0))
        entries = {"usage": entry("memory."), "swap": entry("memory.memsw."), "kernel": entry("memory.kmem."),
                   "kernelTCP": entry("memory.kmem.tcp.")}
    elif (current := _number(_read(v2, "memory.current"))) is not None:
        raw = _flat(_read(v2, "memory.stat"))
        cache = raw.get("file", 0)
        swap = _number(_read(v2, "memory.swap.current")) or 0
        entries.update(usage={"limit": _number(_read(v2, "memory.max")) or 0, "usage": current,
                              "max": _number(_read(v2, "memory.peak")) or 0,
                              "failcnt": _flat(_read(v2, "memory.events")).get("max", 0)},
                       swap={"limit": _number(_read(v2, "memory.swap.max")) or 0, "usage": current + swap})
    else:
        raw, cache = {}, 0
    return _omit({"cache": cache, **{name: _memory_entry(**e) for name, e in entries.items()}, "raw": raw},
                 keep=tuple(entries))


def _pids(d, v2):
    current = _number(_read(d, "pids.current"))
    if current is None:
        # Without the pids controller (a cgroup2 that does not enable it) runc counts the members.
        procs = _read(v2, "cgroup.procs")
        return _omit({"current": procs.count("\n") if procs else 0})
    return _omit({"current": current, "limit": _number(_read(d, "pids.max")) or 0})


def _blkio_entry(major, minor, op, value):
    return _omit({"major": int(major), "minor": int(minor), "op": op, "value": int(value)})


def _blkio_v1(d):
    def entries(name):
        out = []
        for line in (_read(d, name) or "").splitlines():
            fields = line.split()
            if len(fields) == 3 and ":" in fields[0]:
                out.append(_blkio_entry(*fields[0].split(":"), fields[1], fields[2]))
        return out

    return _omit({"ioServiceBytesRecursive": entries("blkio.throttle.io_service_bytes_recursive"),
                  "ioServicedRecursive": entries("blkio.throttle.io_serviced_recursive")})


def _blkio_v2(d):
    bytes_, serviced = [], []
    for line in (_read(d, "io.stat") or "").splitlines():
        device, *pairs = line.split()
        major, minor = device.split(":")
        values = dict(pair.split("=") for pair in pairs)
        for out, read, write in ((bytes_, "rbytes", "wbytes"), (serviced, "rios", "wios")):
            out.append(_blkio_entry(major, minor, "Read", values.get(read, 0)))
            out.append(_blkio_entry(major, minor, "Write", values.get(write, 0)))
    return _omit({"ioServiceBytesRecursive": bytes_, "ioServicedRecursive": serviced})


def _hugetlb(d, v2):
    out = {}
    try:
        names = posix.listdir(d) if d else []
    except OSError:
        names = []
    for name in names:
        parts = name.split(".")
        if len(parts) == 3 and parts[0] == "hugetlb" and parts[2] in ("usage_in_bytes", "current"):
            size = parts[1]
            usage = _number(_read(d, name)) or 0
            if v2:
                fields = {"usage": usage, "failcnt": _flat(_read(d, f"hugetlb.{size}.events")).get("max", 0)}
            else:
                fields = {"usage": usage, "max": _number(_read(d, f"hugetlb.{size}.max_usage_in_bytes")) or 0,
                          "failcnt": _number(_read(d, f"hugetlb.{size}.failcnt")) or 0}
            out[size] = _omit(fields, keep=("failcnt",))
    return out


def oom_kills(v1_memory, v2):
    """How many processes the OOM killer has killed in the cgroup so far."""
    counts = _flat(_read(v1_memory, "memory.oom_control")) or _flat(_read(v2, "memory.events"))
    return counts.get("oom_kill", 0)


def collect(dirs, found):
    """The cgroup sections of runc's stats for the cgroups dirs
    ({mountpoint: dir}) in the hierarchies found."""
    def v1(controller):
        return next((dirs.get(h.mountpoint) for h in found if not h.v2 and controller in h.controllers), None)

    v2 = next((dirs.get(h.mountpoint) for h in found if h.v2), None)
    return {
        "cpu": _cpu(v1("cpuacct"), v1("cpu"), v2),
        "cpuset": _cpuset(v1("cpuset"), v2),
        "memory": _memory(v1("memory"), v2),
        "pids": _pids(v1("pids") or v2, v2),
        "blkio": _blkio_v1(v1("blkio")) if v1("blkio") else _blkio_v2(v2),
        "hugetlb": _hugetlb(v1("hugetlb") or v2, v1("hugetlb") is None),
    }
