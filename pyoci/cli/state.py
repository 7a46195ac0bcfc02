"""Print a container's state as JSON."""
import sys

from pyoci.cli import CONTAINER_ID
from pyoci.core.jsonio import dumps_pretty

FLAGS = []
POSITIONALS = CONTAINER_ID


def run(ctx, args):
    from pyoci.state import Container

    container = Container(ctx.root, args.container_id)
    container.load()
    sys.stdout.write(dumps_pretty(container.spec_state()) + "\n")
