"""Create a container: everything but the user's program, which waits for `start`."""
from pyoci.cli import CONTAINER_ID, Flag
from pyoci.core.errors import PyociError

CREATE_FLAGS = [
    Flag(("-b", "--bundle"), "bundle", str, ".", "bundle directory (default: .)"),
    Flag("--console-socket", "console_socket", str, None, "AF_UNIX socket that receives the pty master"),
    Flag("--pidfd-socket", "pidfd_socket", str, None, "AF_UNIX socket that receives a pidfd of the init"),
    Flag("--pid-file", "pid_file", str, None, "write the init's host pid here"),
    Flag("--no-pivot", "no_pivot", None, False, "move-mount and chroot instead of pivot_root"),
    Flag("--no-new-keyring", "no_new_keyring", None, False, "keep the caller's session keyring"),
    Flag("--preserve-fds", "preserve_fds", int, 0, "pass N fds after stdio (and LISTEN_FDS)"),
]


DRY_RUN = Flag("--dry-run", "dry_run", None, False, "print the launch plan; create nothing")


def make_default_root(ctx):
    """The default --root under $XDG_RUNTIME_DIR, made as runc makes it,
    by the commands that make containers in it."""
    if ctx.root_in_xdg:
        from pyoci.rootless import make_xdg_root

        make_xdg_root(ctx.root)


def create_options(ctx, args):
    if args.preserve_fds < 0:
        raise PyociError("--preserve-fds: must not be negative")
    make_default_root(ctx)
    from pyoci.runtime.create import Options

    return Options(bundle=args.bundle, console_socket=args.console_socket, pid_file=args.pid_file,
                   no_pivot=args.no_pivot, preserve_fds=args.preserve_fds, systemd_cgroup=ctx.systemd_cgroup,
                   new_keyring=not args.no_new_keyring, dry_run=getattr(args, "dry_run", False),
                   pidfd_socket=args.pidfd_socket, rootless=ctx.rootless)


FLAGS = CREATE_FLAGS + [DRY_RUN]
POSITIONALS = CONTAINER_ID


def run(ctx, args):
    opts = create_options(ctx, args)
    from pyoci.runtime.create import create

    create(ctx.root, args.container_id, opts)
