"""Create a container: everything but the user's program, which waits for `start`."""
from pyoci.cli.args import add_create_flags, create_options


def add_arguments(parser):
    add_create_flags(parser)


def run(ctx, args):
    from pyoci.runtime.create import create

    create(ctx.root, args.container_id, create_options(ctx, args))
