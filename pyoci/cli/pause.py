"""Pause (freeze) every process of a running container."""
from pyoci.cli import CONTAINER_ID

FLAGS = []
POSITIONALS = CONTAINER_ID


def run(ctx, args):
    from pyoci.runtime.pause import pause

    pause(ctx.root, args.container_id)
