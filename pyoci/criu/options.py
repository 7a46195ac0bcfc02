"""What `checkpoint` and `restore` tell CRIU (beside create -> start ->
delete; no other command imports this module): runc's CRIU flags checked,
the options they become, in CRIU's long-flag form (pyoci.criu.rpc hands
them to CRIU as a configuration file), and CRIU's log read back, so that
a failure quotes CRIU's own words.  The binary is the global --criu's
(default: criu on PATH).
"""
import fcntl
import posix  # not os: see pyoci.core.paths

from pyoci.core import paths
from pyoci.core.errors import PyociError

CGROUP_MODES = ("soft", "full", "strict", "ignore")
# --empty-ns takes the spec's namespace names; runc accepts only network,
# which it leaves empty anyway (see shared_args).
EMPTY_NS = ("network",)
# runc has CRIU read this configuration unless the annotation names another
# (or, empty, none): a drop-in for runc honours what users put there.  CRIU
# skips a configuration file that does not exist.
RUNC_CONFIG_FILE = "/etc/criu/runc.conf"
CONFIG_ANNOTATION = "org.criu.config"
# CRIU's log level (4: debug, as runc asks), a field of the RPC request.
LOG_LEVEL = 4
# CRIU logs this as an error on hosts without CAP_SYS_RESOURCE and goes on:
# quoting it would hide the line that made it fail.
NOT_FATAL = "Can't setup RLIMIT_NOFILE"
NO_LOG = "no log"


class Options:
    """checkpoint's and restore's CRIU flags, checked; the names are runc's flags."""

    def __init__(self, image_path=None, work_path=None, parent_path=None, leave_running=False,
                 pre_dump=False, tcp_established=False, tcp_skip_in_flight=False, link_remap=False,
                 ext_unix_sk=False, shell_job=False, file_locks=False, manage_cgroups_mode=None,
                 empty_ns=(), auto_dedup=False, lazy_pages=False, status_fd=-1, page_server=None,
                 lsm_profile=None, lsm_mount_context=None):
        self.image_path = paths.abspath(image_path or "checkpoint")
        self.work_path = paths.abspath(work_path) if work_path else None
        self.parent_path = parent_path
        self.leave_running = leave_running
        self.pre_dump = pre_dump
        self.tcp_established = tcp_established
        self.tcp_skip_in_flight = tcp_skip_in_flight
        self.link_remap = link_remap
        self.ext_unix_sk = ext_unix_sk
        self.shell_job = shell_job
        self.file_locks = file_locks
        if manage_cgroups_mode not in (None, "", *CGROUP_MODES):
            raise PyociError(f"--manage-cgroups-mode: {manage_cgroups_mode!r} is not one of {', '.join(CGROUP_MODES)}")
        self.manage_cgroups_mode = manage_cgroups_mode or "soft"
        for name in empty_ns:
            if name not in EMPTY_NS:
                raise PyociError(f"--empty-ns: namespace {name!r} is not supported (only network)")
        self.auto_dedup = auto_dedup
        self.lazy_pages = lazy_pages
        if lazy_pages and status_fd >= 0:
            _check_writable(status_fd)
        self.status_fd = status_fd if lazy_pages else -1  # runc uses it only with --lazy-pages
        self.page_server = _address_port(page_server) if page_server else None
        self.lsm_profile = lsm_profile
        self.lsm_mount_context = lsm_mount_context

    @property
    def log_dir(self):
        return self.work_path or self.image_path


def _check_writable(fd):
    try:
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    except OSError:
        raise PyociError(f"--status-fd: {fd} is not an open file descriptor") from None
    if flags & posix.O_ACCMODE == posix.O_RDONLY:
        raise PyociError(f"--status-fd: {fd} is not open for writing")


def _address_port(value):
    address, _, port = value.rpartition(":")
    if not address or not port.isdigit():
        raise PyociError(f"--page-server: {value!r} is not ADDRESS:PORT")
    return address.strip("[]"), port


def find_binary(name):
    """--criu's value as a path to run: as given when it has a slash, else looked up in PATH."""
    path = paths.which(name)
    if path is None:
        raise PyociError(f"--criu: {name}: no such executable (checkpoint and restore need CRIU)")
    return path


def shared_args(opts):
    """The flags dump and restore take alike.  Long options only, here and
    in every flag CRIU gets: pyoci.criu.rpc writes them as a configuration
    file, which knows no short ones.  The image and work directories and
    the log are the RPC request's (pyoci.criu.rpc)."""
    # The network namespace is always left empty, as runc does: engines
    # configure it (hooks, CNI), not the runtime; restore brings its loopback
    # up as create does.
    args = [f"--manage-cgroups={opts.manage_cgroups_mode}", "--empty-ns", "net"]
    for flag, wanted in (("--tcp-established", opts.tcp_established), ("--ext-unix-sk", opts.ext_unix_sk),
                         ("--shell-job", opts.shell_job), ("--file-locks", opts.file_locks),
                         ("--auto-dedup", opts.auto_dedup), ("--lazy-pages", opts.lazy_pages)):
        if wanted:
            args.append(flag)
    return args


def config_file(annotations):
    """The CRIU configuration file the user's settings are in, or None."""
    return annotations.get(CONFIG_ANNOTATION, RUNC_CONFIG_FILE) or None


def make_dir(path, flag):
    """The image or work directory, made as runc makes it (with its parents)."""
    try:
        paths.makedirs(path, 0o700)
    except FileExistsError:
        raise PyociError(f"{flag}: {path}: not a directory") from None
    except OSError as e:
        raise PyociError(f"{flag}: {path}: {posix.strerror(e.errno).lower()}") from None


def log_excerpt(log_path, most=3):
    """The first error lines of a CRIU log, joined ("" if none, NO_LOG
    without a log)."""
    try:
        with open(log_path, errors="replace") as f:
            return "; ".join(error_words(f)[:most])
    except OSError:
        return NO_LOG


def error_words(lines):
    """CRIU's error lines among lines, without the timestamp, pid and
    source position that open each ("(00.14)  6: Error (criu/x.c:9): ...")."""
    errors = []
    for line in lines:
        at = line.find("Error (")
        if at >= 0 and NOT_FATAL not in line:
            errors.append(line[at:].split("): ", 1)[-1].strip())
    return errors
