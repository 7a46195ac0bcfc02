"""Resume (thaw) the processes of a paused container."""
from pyoci.cli import CONTAINER_ID

FLAGS = []
POSITIONALS = CONTAINER_ID


def run(ctx, args):
    from pyoci.runtime.pause import resume

    resume(ctx.root, args.container_id)
