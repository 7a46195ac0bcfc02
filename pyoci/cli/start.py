"""Start the user's program in a created container."""
from pyoci.cli.args import add_container_id


def add_arguments(parser):
    add_container_id(parser)


def run(ctx, args):
    from pyoci.runtime.start import start

    start(ctx.root, args.container_id)
