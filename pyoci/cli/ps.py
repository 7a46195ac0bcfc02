"""List the processes in a container (host pids): a table from the host's
ps, or with --format json a JSON array of pids.  Arguments after the
container id are ps's options (default -ef)."""
import sys

from pyoci.cli import CONTAINER_ID, Flag
from pyoci.core.errors import PyociError

FLAGS = [Flag(("-f", "--format"), "format", str, "table", "table or json")]
POSITIONALS = CONTAINER_ID
REST = "ps_args"


def run(ctx, args):
    from pyoci.core.jsonio import dumps
    from pyoci.runtime.ps import container_pids, table

    if args.format not in ("table", "json"):
        raise PyociError(f"--format: {args.format!r} is not table or json")
    pids = container_pids(ctx.root, args.container_id)
    sys.stdout.write(dumps(pids) + "\n" if args.format == "json" else table(pids, args.ps_args))
