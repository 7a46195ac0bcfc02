"""Create and start a container, wait for it and exit with its status."""
from pyoci.cli import CONTAINER_ID, Flag
from pyoci.cli.create import CREATE_FLAGS, create_options

FLAGS = CREATE_FLAGS + [
    Flag(("-d", "--detach"), "detach", None, False, "return once the program has started"),
    Flag("--no-subreaper", "no_subreaper", None, False, "do not become a child subreaper"),
    Flag("--keep", "keep", None, False, "keep the container's state after it exits"),
]
POSITIONALS = CONTAINER_ID


def run(ctx, args):
    opts = create_options(ctx, args)
    from pyoci.runtime.run import run as run_container

    return run_container(ctx.root, args.container_id, opts, detach=args.detach,
                         subreaper=not args.no_subreaper, keep=args.keep)
