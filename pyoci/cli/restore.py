"""Restore a container from checkpoint's CRIU images (checkpoint/restore: the create of a restored container)."""
from pyoci.cli import CONTAINER_ID, Flag
from pyoci.cli.checkpoint import CRIU_FLAGS, criu_options
from pyoci.cli.create import make_default_root

# CRIU's flags only restore takes
RESTORE_CRIU_FLAGS = [
    Flag("--lsm-profile", "lsm_profile", str, None, "TYPE:NAME of the LSM profile to restore with"),
    Flag("--lsm-mount-context", "lsm_mount_context", str, None, "LSM mount context to restore with"),
]

FLAGS = CRIU_FLAGS + RESTORE_CRIU_FLAGS + [
    Flag(("-b", "--bundle"), "bundle", str, ".", "bundle directory (default: .)"),
    Flag(("-d", "--detach"), "detach", None, False, "return once the container runs"),
    Flag("--pid-file", "pid_file", str, None, "write the init's host pid here"),
    Flag("--console-socket", "console_socket", str, None, "AF_UNIX socket that receives the pty master"),
    # CRIU restores the mount namespace itself: there is no pivot_root to avoid.
    Flag("--no-pivot", "no_pivot", None, False, "accepted, as runc does; CRIU makes the root"),
    Flag("--no-subreaper", "no_subreaper", None, False, "do not become a child subreaper"),
]
POSITIONALS = CONTAINER_ID


def run(ctx, args):
    from pyoci.criu.restore import RestoreOptions, restore

    make_default_root(ctx)
    opts = RestoreOptions(ctx.criu, criu_options(args, CRIU_FLAGS + RESTORE_CRIU_FLAGS), bundle=args.bundle,
                          console_socket=args.console_socket, pid_file=args.pid_file, no_pivot=args.no_pivot,
                          systemd_cgroup=ctx.systemd_cgroup, rootless=ctx.rootless)
    return restore(ctx.root, args.container_id, opts, detach=args.detach, subreaper=not args.no_subreaper)
