"""Print a container's state as JSON."""
import json
import sys

from pyoci.cli.args import CONTAINER_ID

FLAGS = []
POSITIONALS = CONTAINER_ID


def run(ctx, args):
    from pyoci.state import Container

    container = Container(ctx.root, args.container_id)
    container.load()
    sys.stdout.write(json.dumps(container.spec_state(), indent=2) + "\n")
