"""Start the user's program in a created container."""
from pyoci.cli import CONTAINER_ID

FLAGS = []
POSITIONALS = CONTAINER_ID


def run(ctx, args):
    from pyoci.runtime.start import start

    start(ctx.root, args.container_id)
