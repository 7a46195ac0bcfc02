"""argparse for one subcommand, with errors that exit 1 (runc's status for
bad arguments) instead of argparse's 2."""
import argparse

from pyoci.errors import PyociError


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise PyociError(f"{self.prog}: {message}")


def parser_for(name, module):
    parser = Parser(prog=f"pyoci {name}", description=(module.__doc__ or "").strip().splitlines()[0])
    module.add_arguments(parser)
    return parser


def add_container_id(parser):
    parser.add_argument("container_id", metavar="ID", help="container id")


def add_create_flags(parser):
    """The flags create and run share."""
    parser.add_argument("-b", "--bundle", default=".", help="bundle directory (default: .)")
    parser.add_argument("--console-socket", help="AF_UNIX socket that receives the pty master")
    parser.add_argument("--pidfd-socket", help="AF_UNIX socket that receives a pidfd of the init")
    parser.add_argument("--pid-file", help="write the init's host pid here")
    parser.add_argument("--no-pivot", action="store_true", help="move-mount and chroot instead of pivot_root")
    parser.add_argument("--no-new-keyring", action="store_true", help="keep the caller's session keyring")
    parser.add_argument("--preserve-fds", type=int, default=0, help="pass N fds after stdio (and LISTEN_FDS)")
    add_container_id(parser)


def create_options(ctx, args):
    from pyoci.runtime.create import Options

    if args.preserve_fds < 0:
        raise PyociError("--preserve-fds: must not be negative")
    if args.pidfd_socket:
        raise PyociError("--pidfd-socket: not supported by pyoci yet")
    return Options(bundle=args.bundle, console_socket=args.console_socket, pid_file=args.pid_file,
                   no_pivot=args.no_pivot, preserve_fds=args.preserve_fds, systemd_cgroup=ctx.systemd_cgroup,
                   new_keyring=not args.no_new_keyring)
