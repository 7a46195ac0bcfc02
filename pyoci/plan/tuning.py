"""How the container's processes run: process.scheduler, process.ioPriority,
linux.personality and linux.memoryPolicy -> shim steps (create and exec,
before the capability drop), and process.execCPUAffinity (exec only).

The steps run while the process is still root with its capabilities, as
runc orders them: a real-time policy needs CAP_SYS_NICE, the real-time I/O
class CAP_SYS_ADMIN.  Values the kernel refuses fail the step, and the
error names the field.
"""
from pyoci._constants import (IOPRIO_CLASS_SHIFT, IOPRIO_CLASSES, MEMORY_POLICY_FLAGS, MEMORY_POLICY_MODES,
                              PERSONALITY_DOMAINS, SCHED_FLAGS, SCHED_POLICIES)
from pyoci.core.errors import ConfigError

# struct sched_attr up to sched_period (SCHED_ATTR_SIZE_VER0): the spec has no utilization clamps.
SCHED_ATTR_FORMAT = "<IIQiIQQQ"


def parse_list(text, field):
    """A CPU or node list, "0-3,7", as a set of numbers."""
    found = set()
    for part in filter(None, text.replace(" ", "").split(",")):
        first, dash, last = part.partition("-")
        try:
            low, high = int(first), int(last if dash else first)
        except ValueError:
            raise ConfigError(f"{field}: {text!r} is not a list like 0-3,7") from None
        if low < 0 or high < low:
            raise ConfigError(f"{field}: {part!r} is not a range")
        found.update(range(low, high + 1))
    return found


def _flags(names, table, field):
    value = 0
    for name in names:
        if name not in table:
            raise ConfigError(f"{field}: unknown flag {name!r}")
        value |= table[name]
    return value


def compile_scheduler(plan, process):
    sched = process.get("scheduler")
    if not sched:
        return
    import struct  # only here: create pays for it only with a scheduler

    policy = sched["policy"]
    attr = struct.pack(SCHED_ATTR_FORMAT, struct.calcsize(SCHED_ATTR_FORMAT), SCHED_POLICIES[policy],
                           _flags(sched.get("flags", []), SCHED_FLAGS, "process.scheduler.flags"),
                           sched.get("nice", 0), sched.get("priority", 0), sched.get("runtime", 0),
                           sched.get("deadline", 0), sched.get("period", 0))
    plan.add("SCHED_SETATTR", f"process.scheduler {policy}: sched_setattr", attr=attr)


def compile_io_priority(plan, process):
    prio = process.get("ioPriority")
    if not prio:
        return
    value = IOPRIO_CLASSES[prio["class"]] << IOPRIO_CLASS_SHIFT | prio.get("priority", 0)
    plan.add("IOPRIO", f"process.ioPriority {prio['class']}: ioprio_set", value=value)


def compile_personality(plan, linux):
    persona = linux.get("personality")
    if not persona:
        return
    if persona.get("flags"):
        raise ConfigError(f"linux.personality.flags: {persona['flags'][0]!r}: the spec defines no flags")
    plan.add("PERSONALITY", f"linux.personality {persona['domain']}: personality",
             persona=PERSONALITY_DOMAINS[persona["domain"]])


def compile_memory_policy(plan, linux):
    policy = linux.get("memoryPolicy")
    if not policy:
        return
    mode = MEMORY_POLICY_MODES[policy["mode"]] | _flags(policy.get("flags", []), MEMORY_POLICY_FLAGS,
                                                        "linux.memoryPolicy.flags")
    nodes = parse_list(policy.get("nodes", ""), "linux.memoryPolicy.nodes")
    mask, maxnode = None, 0
    if nodes:
        words = max(nodes) // 64 + 1
        mask = sum(1 << n for n in nodes).to_bytes(8 * words, "little")
        # The kernel counts one bit fewer than maxnode says (set_mempolicy(2) BUGS).
        maxnode = 64 * words + 1
    plan.add("MEMPOLICY", f"linux.memoryPolicy {policy['mode']}: set_mempolicy", mode=mode, maxnode=maxnode,
             nodes=mask)


def compile_tuning(plan, config):
    """The steps for the process about to be started (the init, or exec's)."""
    process = config["process"]
    linux = config.get("linux", {})
    compile_personality(plan, linux)
    compile_memory_policy(plan, linux)
    compile_scheduler(plan, process)
    compile_io_priority(plan, process)


def exec_cpu_affinity(process):
    """process.execCPUAffinity as (initial, final) CPU sets, None where unset."""
    affinity = process.get("execCPUAffinity") or {}
    return tuple(parse_list(affinity[key], f"process.execCPUAffinity.{key}") if affinity.get(key) else None
                 for key in ("initial", "final"))
