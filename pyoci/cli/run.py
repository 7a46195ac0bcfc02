"""Create and start a container, wait for it and exit with its status."""
from pyoci.cli.args import add_create_flags, create_options


def add_arguments(parser):
    add_create_flags(parser)
    parser.add_argument("-d", "--detach", action="store_true", help="return once the program has started")
    parser.add_argument("--no-subreaper", action="store_true", help="do not become a child subreaper")
    parser.add_argument("--keep", action="store_true", help="keep the container's state after it exits")


def run(ctx, args):
    from pyoci.runtime.run import run as run_container

    return run_container(ctx.root, args.container_id, create_options(ctx, args), detach=args.detach,
                         subreaper=not args.no_subreaper, keep=args.keep)
