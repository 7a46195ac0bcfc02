"""`checkpoint`: a running container's processes saved as CRIU images
(checkpoint/restore; `restore` makes a container from them again).

CRIU dumps the init's process tree, freezing it through the container's
freezer cgroup, with the rootfs as its root; pyoci names what came from
outside the container (pyoci.criu.externals) and records the
init's stdio.  The container is then gone, as with runc: CRIU ended its
processes and `delete` removes the rest, poststop hooks included.  With
--leave-running it goes on, and with --pre-dump only its memory is saved
and it goes on.  With --lazy-pages CRIU dumps all but the memory, then
serves the memory of the frozen container from --page-server's address to
the restoring side's lazy-pages daemon: checkpoint returns once it is all
sent.  CRIU runs through its RPC (pyoci.criu.rpc); a container's pty is
dumped with its master left with the console that holds it.
"""
import posix  # not os: see pyoci.core.paths

from pyoci import cgroups

from pyoci.criu import options as criu, rpc as criu_rpc
from pyoci.core import paths
from pyoci.core.errors import PyociError, WrongState
from pyoci.criu import externals
from pyoci.runtime import delete as delete_op
from pyoci.spec.load import load_bundle_config
from pyoci.state import Container

LOG_FILE = "dump.log"


def checkpoint(root, container_id, binary, opts):
    container = Container(root, container_id)
    container.lock()
    try:
        container.load()
        status = container.status()
        if status not in ("running", "paused"):
            raise WrongState(f"cannot checkpoint container {container_id}: it is {status}, not running")
        binary = criu.find_binary(binary)
        dump(container, binary, opts)
    finally:
        container.unlock()
    if not (opts.leave_running or opts.pre_dump):
        delete_op.delete(root, container_id, force=True)


def dump(container, binary, opts):
    record = container.record
    pid = record["pid"]
    # The mounts are not in the state: the bundle's config.json is what
    # create made them from.
    config = load_bundle_config(record["bundle"])
    parent = _parent_path(opts)
    criu.make_dir(opts.image_path, "--image-path")
    if opts.work_path:
        criu.make_dir(opts.work_path, "--work-path")
    needs = {}
    if opts.pre_dump:
        needs["mem_track"] = "--pre-dump"
    if opts.lazy_pages:
        needs["lazy_pages"] = "--lazy-pages"
    if needs:
        criu_rpc.check_features(binary, opts, LOG_FILE, needs)

    args = ["--root", record["rootfs"]]
    args += criu.shared_args(opts)
    freezer = _freezer_dir(record)
    if freezer:
        args += ["--freeze-cgroup", freezer]
    if opts.leave_running:
        args.append("--leave-running")
    for flag, wanted in (("--skip-in-flight", opts.tcp_skip_in_flight), ("--link-remap", opts.link_remap)):
        if wanted:
            args.append(flag)
    if parent:
        args += ["--prev-images-dir", parent, "--track-mem"]
    if opts.page_server:
        address, port = opts.page_server
        # With --lazy-pages the dump is the page server: CRIU listens there
        # and serves the memory to the restoring side's lazy-pages daemon.
        # Else CRIU sends the memory to a page server listening there.
        if not opts.lazy_pages:
            args.append("--page-server")
        args += ["--address", address, "--port", port]
    if opts.status_fd >= 0:
        args += ["--status-fd", str(opts.status_fd)]
    args += externals.dump_namespaces(config)
    # A pre-dump saves memory only: the rest comes with the dump after it.
    if not opts.pre_dump:
        hierarchies = cgroups.hierarchies()
        args += externals.dump_mounts(config, record["bundle"], record["cgroup"]["shown"], hierarchies, pid)
        externals.write_descriptors(opts.image_path, pid)

    pass_fds = (opts.status_fd,) if opts.status_fd >= 0 else ()
    worker = criu_rpc.Worker(binary, opts, LOG_FILE, args, criu.config_file(config.get("annotations", {})),
                             pass_fds=pass_fds)
    if opts.status_fd >= 0:
        # CRIU closes its copy once it serves the pages: whoever waits on the
        # other end then sees the end of file, not only when the dump ends.
        posix.close(opts.status_fd)
    worker.call(criu_rpc.PRE_DUMP if opts.pre_dump else criu_rpc.DUMP, pid=pid)


def _parent_path(opts):
    """--parent-path: the previous (pre-)dump, relative to the image path as CRIU takes it."""
    if not opts.parent_path:
        return None
    if paths.isabs(opts.parent_path):
        raise PyociError("--parent-path: must be relative to --image-path")
    # Joined as runc joins it, by name: ../pre names a sibling of an image
    # path that this checkpoint has yet to make.
    parent = paths.normpath(paths.join(opts.image_path, opts.parent_path))
    if not paths.isdir(parent):
        raise PyociError(f"--parent-path: {parent}: no such directory")
    return opts.parent_path


def _freezer_dir(record):
    """The cgroup CRIU freezes the tree with (the v1 freezer, else cgroup2's),
    so that no process forks away while it collects them."""
    files = record.get("cgroup", {}).get("freezers", [])
    v1 = [f for f in files if f.endswith("freezer.state")]
    chosen = (v1 or files or [None])[0]
    return paths.dirname(chosen) if chosen else None
