"""Delete a stopped container (with --force, any container)."""
from pyoci.cli.args import add_container_id


def add_arguments(parser):
    parser.add_argument("-f", "--force", action="store_true", help="kill the container first if it runs")
    add_container_id(parser)


def run(ctx, args):
    from pyoci.runtime.delete import delete

    delete(ctx.root, args.container_id, args.force)
