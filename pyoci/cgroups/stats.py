"""A container's resource use, read from its cgroups (events), in runc's
stats format (its field names, bytes and nanoseconds), from v1 files or
their cgroup2 counterparts, whichever the host has.  A controller the host
lacks leaves its section out rather than inventing zeros."""
import posix  # not os: see pyoci.paths

from pyoci import paths

NS_PER_TICK = 10**9 // 100  # cpuacct.stat counts USER_HZ ticks (100 on Linux)


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


def _cpu(v1_cpuacct, v1_cpu, v2):
    usage = _number(_read(v1_cpuacct, "cpuacct.usage"))
    if usage is not None:
        ticks = _flat(_read(v1_cpuacct, "cpuacct.stat"))
        percpu = [int(n) for n in (_read(v1_cpuacct, "cpuacct.usage_percpu") or "").split()]
        cpu = {"usage": {"total": usage, "percpu": percpu,
                         "kernel": ticks.get("system", 0) * NS_PER_TICK, "user": ticks.get("user", 0) * NS_PER_TICK}}
        throttling = _flat(_read(v1_cpu, "cpu.stat"))
    else:
        stat = _flat(_read(v2, "cpu.stat"))
        if not stat:
            return None
        cpu = {"usage": {"total": stat.get("usage_usec", 0) * 1000, "percpu": [],
                         "kernel": stat.get("system_usec", 0) * 1000, "user": stat.get("user_usec", 0) * 1000}}
        throttling = dict(stat, throttled_time=stat.get("throttled_usec", 0) * 1000)
    cpu["throttling"] = {"periods": throttling.get("nr_periods", 0),
                         "throttled_periods": throttling.get("nr_throttled", 0),
                         "throttled_time": throttling.get("throttled_time", 0)}
    return cpu


def _memory(v1, v2):
    if _read(v1, "memory.usage_in_bytes") is not None:
        def entry(prefix):
            return {"limit": _number(_read(v1, prefix + "limit_in_bytes")) or 0,
                    "usage": _number(_read(v1, prefix + "usage_in_bytes")) or 0,
                    "max": _number(_read(v1, prefix + "max_usage_in_bytes")) or 0,
                    "failcnt": _number(_read(v1, prefix + "failcnt")) or 0}

        raw = _flat(_read(v1, "memory.stat"))
        return {"cache": raw.get("total_cache", raw.get("cache", 0)), "usage": entry("memory."),
                "swap": entry("memory.memsw."), "kernel": entry("memory.kmem."),
                "kernelTCP": entry("memory.kmem.tcp."), "raw": raw}
    current = _number(_read(v2, "memory.current"))
    if current is None:
        return None
    raw = _flat(_read(v2, "memory.stat"))
    events = _flat(_read(v2, "memory.events"))
    swap = _number(_read(v2, "memory.swap.current")) or 0
    return {"cache": raw.get("file", 0),
            "usage": {"limit": _number(_read(v2, "memory.max")) or 0, "usage": current,
                      "max": _number(_read(v2, "memory.peak")) or 0, "failcnt": events.get("max", 0)},
            "swap": {"limit": _number(_read(v2, "memory.swap.max")) or 0, "usage": current + swap, "max": 0,
                     "failcnt": 0},
            "raw": raw}


def _pids(d):
    current = _number(_read(d, "pids.current"))
    return None if current is None else {"current": current, "limit": _number(_read(d, "pids.max")) or 0}


def _blkio_v1(d):
    entries = []
    for line in (_read(d, "blkio.throttle.io_service_bytes_recursive") or "").splitlines():
        fields = line.split()
        if len(fields) == 3 and ":" in fields[0]:
            major, minor = fields[0].split(":")
            entries.append({"major": int(major), "minor": int(minor), "op": fields[1], "value": int(fields[2])})
    return {"ioServiceBytesRecursive": entries}


def _blkio_v2(d):
    text = _read(d, "io.stat")
    if text is None:
        return None
    entries = []
    for line in text.splitlines():
        device, *pairs = line.split()
        major, minor = device.split(":")
        values = dict(pair.split("=") for pair in pairs)
        for key, op in (("rbytes", "Read"), ("wbytes", "Write")):
            entries.append({"major": int(major), "minor": int(minor), "op": op, "value": int(values.get(key, 0))})
    return {"ioServiceBytesRecursive": entries}


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
                out[size] = {"usage": usage, "max": 0,
                             "failcnt": _flat(_read(d, f"hugetlb.{size}.events")).get("max", 0)}
            else:
                out[size] = {"usage": usage, "max": _number(_read(d, f"hugetlb.{size}.max_usage_in_bytes")) or 0,
                             "failcnt": _number(_read(d, f"hugetlb.{size}.failcnt")) or 0}
    return out or None


def oom_kills(v1_memory, v2):
    """How many processes the OOM killer has killed in the cgroup so far."""
    counts = _flat(_read(v1_memory, "memory.oom_control")) or _flat(_read(v2, "memory.events"))
    return counts.get("oom_kill", 0)


def collect(dirs, found):
    """The stats of the cgroups dirs ({mountpoint: dir}) in the hierarchies found."""
    def v1(controller):
        return next((dirs.get(h.mountpoint) for h in found if not h.v2 and controller in h.controllers), None)

    v2 = next((dirs.get(h.mountpoint) for h in found if h.v2), None)
    sections = {
        "cpu": _cpu(v1("cpuacct"), v1("cpu"), v2),
        "memory": _memory(v1("memory"), v2),
        "pids": _pids(v1("pids") or v2),
        "blkio": _blkio_v1(v1("blkio")) if v1("blkio") else _blkio_v2(v2),
        "hugetlb": _hugetlb(v1("hugetlb") or v2, v1("hugetlb") is None),
    }
    return {name: value for name, value in sections.items() if value is not None}
