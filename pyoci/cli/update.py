"""Change a running container's resources: -r FILE (or - for stdin) holds a
linux.resources object, and the flags set single values over it."""
from pyoci.cli import CONTAINER_ID, Flag
from pyoci.core.errors import PyociError

# flag dest -> where its value goes in linux.resources (runc's update flags)
FIELDS = {
    "blkio_weight": ("blockIO", "weight"),
    "cpu_period": ("cpu", "period"),
    "cpu_quota": ("cpu", "quota"),
    "cpu_share": ("cpu", "shares"),
    "cpu_rt_period": ("cpu", "realtimePeriod"),
    "cpu_rt_runtime": ("cpu", "realtimeRuntime"),
    "cpuset_cpus": ("cpu", "cpus"),
    "cpuset_mems": ("cpu", "mems"),
    "kernel_memory": ("memory", "kernel"),
    "kernel_memory_tcp": ("memory", "kernelTCP"),
    "memory": ("memory", "limit"),
    "memory_reservation": ("memory", "reservation"),
    "memory_swap": ("memory", "swap"),
    "pids_limit": ("pids", "limit"),
}
# Sizes may carry a unit, as in runc: 512m, 1g (powers of 1024); -1 is unlimited.
SIZES = {"kernel_memory", "kernel_memory_tcp", "memory", "memory_reservation", "memory_swap"}
UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}

FLAGS = [Flag(("-r", "--resources"), "resources", str, None, "a linux.resources JSON file, or - for stdin")] + [
    Flag("--" + dest.replace("_", "-"), dest, str if dest in SIZES or dest.startswith("cpuset") else int, None,
         f"linux.resources.{section}.{key}")
    for dest, (section, key) in FIELDS.items()
] + [Flag("--l3-cache-schema", "l3_cache_schema", str, None, "Intel RDT L3 cache schema"),
     Flag("--mem-bw-schema", "mem_bw_schema", str, None, "Intel RDT memory bandwidth schema")]
POSITIONALS = CONTAINER_ID


def flag(dest):
    return "--" + dest.replace("_", "-")


def size(dest, text):
    number, unit = text.lower().rstrip("ib"), ""
    if number and number[-1] in UNITS:
        number, unit = number[:-1], number[-1]
    try:
        value = int(number)
    except ValueError:
        raise PyociError(f"{flag(dest)}: {text!r} is not a size (e.g. 512m, 1g, -1)") from None
    return value if value < 0 else value * UNITS[unit]


def requested(args, stdin):
    """The linux.resources object asked for: -r's, then each flag over it,
    each held to the schema as config.json's linux.resources is, before
    anything is written (a wrong type would otherwise fail half way)."""
    from pyoci.core.jsonio import loads
    from pyoci.spec.load import validate_resources

    resources = {}
    if args.resources:
        try:
            if args.resources == "-":
                text = stdin.read()
            else:
                with open(args.resources) as f:
                    text = f.read()
            resources = loads(text)
        except OSError as e:
            raise PyociError(f"--resources {args.resources}: {e.strerror.lower()}") from None
        except ValueError as e:
            raise PyociError(f"--resources {args.resources}: not valid JSON: {e}") from None
        if not isinstance(resources, dict):
            raise PyociError(f"--resources {args.resources}: must hold a linux.resources object")
        validate_resources(resources, f"--resources {args.resources}")
    for dest, (section, key) in FIELDS.items():
        value = getattr(args, dest)
        if value is not None:
            value = size(dest, value) if dest in SIZES else value
            validate_resources({section: {key: value}}, flag(dest))
            resources.setdefault(section, {})[key] = value
    if args.l3_cache_schema or args.mem_bw_schema:
        raise PyociError("--l3-cache-schema/--mem-bw-schema: this host has no Intel RDT (resctrl)")
    return resources


def run(ctx, args):
    import sys

    from pyoci.runtime.update import update

    update(ctx.root, args.container_id, requested(args, sys.stdin))
