"""Print a container's resource use as JSON: once with --stats, else every
--interval (default 5s) until it stops, with an "oom" event after each OOM
kill in its cgroup."""
from pyoci.cli import CONTAINER_ID, Flag
from pyoci.core.errors import PyociError

FLAGS = [Flag("--stats", "stats", None, False, "print the stats once and exit"),
         Flag("--interval", "interval", str, "5s", "how often to print (5s, 500ms, 1m)")]
POSITIONALS = CONTAINER_ID
UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}


def seconds(text):
    """A Go-style duration, as runc takes it: 5s, 500ms, 1m, 1.5h."""
    for unit in ("ms", "s", "m", "h"):
        if text.endswith(unit):
            number = text[: -len(unit)]
            break
    else:
        unit, number = "s", text
    try:
        value = float(number) * UNITS[unit]
    except ValueError:
        value = 0
    if value <= 0:
        raise PyociError(f"--interval: {text!r} is not a positive duration (e.g. 5s, 500ms)")
    return value


def run(ctx, args):
    from pyoci.runtime.events import events

    events(ctx.root, args.container_id, args.stats, seconds(args.interval))
