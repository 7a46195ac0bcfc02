"""Send a signal (default SIGTERM) to a container's init, or with --all to all its processes."""
from pyoci.cli import Flag

FLAGS = [Flag(("-a", "--all"), "all", None, False, "signal every process in the container")]
POSITIONALS = ["container_id", "signal?"]


def run(ctx, args):
    from pyoci.runtime.kill import kill, parse_signal

    kill(ctx.root, args.container_id, parse_signal(args.signal or "SIGTERM"), args.all)
