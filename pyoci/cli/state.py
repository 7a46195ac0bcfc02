"""Print a container's state as JSON."""
import json
import sys

from pyoci.cli.args import add_container_id


def add_arguments(parser):
    add_container_id(parser)


def run(ctx, args):
    from pyoci.state import Container

    container = Container(ctx.root, args.container_id)
    container.load()
    sys.stdout.write(json.dumps(container.spec_state(), indent=2) + "\n")
