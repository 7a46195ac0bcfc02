"""Create a container: everything but the user's program, which waits for `start`."""
from pyoci.cli.args import CONTAINER_ID, CREATE_FLAGS, DRY_RUN, create_options

FLAGS = CREATE_FLAGS + [DRY_RUN]
POSITIONALS = CONTAINER_ID


def run(ctx, args):
    from pyoci.runtime.create import create

    create(ctx.root, args.container_id, create_options(ctx, args))
