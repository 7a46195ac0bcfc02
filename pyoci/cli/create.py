"""Create a container: everything but the user's program, which waits for `start`."""
from pyoci.cli.args import CONTAINER_ID, CREATE_FLAGS, DRY_RUN, create_options

FLAGS = CREATE_FLAGS + [DRY_RUN]
POSITIONALS = CONTAINER_ID


def run(ctx, args):
    opts = create_options(ctx, args)  # first: it starts work that overlaps the imports
    from pyoci.runtime.create import create

    create(ctx.root, args.container_id, opts)
