"""Send a signal (default SIGTERM) to a container's init, or with --all to all its processes."""
from pyoci.cli.args import add_container_id


def add_arguments(parser):
    parser.add_argument("-a", "--all", action="store_true", help="signal every process in the container")
    add_container_id(parser)
    parser.add_argument("signal", nargs="?", default="SIGTERM", help="name (TERM, SIGTERM) or number")


def run(ctx, args):
    from pyoci.runtime.kill import kill
    from pyoci.runtime.signals import parse_signal

    kill(ctx.root, args.container_id, parse_signal(args.signal), args.all)
