"""Checkpoint a running container into CRIU images (checkpoint/restore, beside create -> start -> delete)."""
from pyoci.cli import CONTAINER_ID, Flag

# The CRIU flags checkpoint and restore share, as runc has them.
CRIU_FLAGS = [
    Flag("--image-path", "image_path", str, None, "directory of the CRIU images (default: ./checkpoint)"),
    Flag("--work-path", "work_path", str, None, "directory of CRIU's log and work files (default: the image path)"),
    Flag("--tcp-established", "tcp_established", None, False, "established TCP connections"),
    Flag("--ext-unix-sk", "ext_unix_sk", None, False, "unix sockets connected outside the container"),
    Flag("--shell-job", "shell_job", None, False, "a process tree of a shell job (its session and terminal)"),
    Flag("--file-locks", "file_locks", None, False, "file locks"),
    Flag("--manage-cgroups-mode", "manage_cgroups_mode", str, None, "cgroups: soft|full|strict|ignore (default: soft)"),
    Flag("--empty-ns", "empty_ns", "list", None, "a namespace CRIU makes but leaves empty (network, as always)"),
    Flag("--auto-dedup", "auto_dedup", None, False, "deduplicate memory images"),
    Flag("--lazy-pages", "lazy_pages", None, False, "memory pages on demand, through userfaultfd"),
]

FLAGS = CRIU_FLAGS + [
    Flag("--parent-path", "parent_path", str, None, "the previous pre-dump's images, relative to the image path"),
    Flag("--leave-running", "leave_running", None, False, "keep the container running afterwards"),
    Flag("--pre-dump", "pre_dump", None, False, "memory only, and the container keeps running"),
    Flag("--tcp-skip-in-flight", "tcp_skip_in_flight", None, False, "skip TCP connections not yet accepted"),
    Flag("--link-remap", "link_remap", None, False, "link unlinked open files back where possible"),
    Flag("--page-server", "page_server", str, None,
         "ADDRESS:PORT of a CRIU page server to send memory to (with --lazy-pages: where CRIU serves it)"),
    Flag("--status-fd", "status_fd", int, -1, "with --lazy-pages, CRIU writes \\0 here once it serves pages"),
]
POSITIONALS = CONTAINER_ID


def criu_options(args, flags):
    """pyoci.criu.options.Options from the values of flags (CRIU's, as this command has them)."""
    from pyoci.criu.options import Options

    return Options(**{flag.dest: getattr(args, flag.dest) for flag in flags})


def run(ctx, args):
    opts = criu_options(args, FLAGS)
    from pyoci.criu.checkpoint import checkpoint

    checkpoint(ctx.root, args.container_id, ctx.criu, opts)
