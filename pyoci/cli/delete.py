"""Delete a stopped container (with --force, any container)."""
from pyoci.cli import CONTAINER_ID, Flag

FLAGS = [Flag(("-f", "--force"), "force", None, False, "kill the container first if it runs")]
POSITIONALS = CONTAINER_ID


def run(ctx, args):
    from pyoci.runtime.delete import delete

    delete(ctx.root, args.container_id, args.force)
