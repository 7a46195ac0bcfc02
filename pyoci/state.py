"""State store under the root directory (default /run/pyoci): <root>/<id>/.

create makes the directory (mkdir is what makes an id unique) and writes
state.json; start, kill, delete and state read it; delete removes it.  Every
write is whole, durable and atomic (temp file, fsync, rename), and a
per-container flock on the directory serialises commands on one id.  The
init is recorded as pid plus its start time from /proc, so a reused pid is
never taken for it; the status is worked out from those live facts, not
stored.

Before create makes anything outside the directory (cgroups, the init), it
writes cleanup.json: what delete needs to take it all down.  A create
killed at any instant, or a state.json found damaged, still leaves delete -f
enough to remove the container and free its id (pyoci.runtime.delete).
"""
import fcntl
import posix  # not os: see pyoci.core.paths

from pyoci.core.errors import NotFound, PyociError
from pyoci.core.jsonio import dumps, loads
from pyoci.core.paths import abspath, basename, dirname, exists, isfile, join, makedirs
from pyoci.core.procfs import process_start_time

STATE_FILE = "state.json"
CLEANUP_FILE = "cleanup.json"
START_SOCKET = "start.sock"
# What cleanup.json holds of the record.
CLEANUP_KEYS = ("pid", "init_start_time", "cgroup", "host_mounts")
# What every record holds; one without them is damaged.
RECORD_KEYS = ("ociVersion", "pid", "init_start_time", "bundle", "rootfs", "created")


class Damaged(PyociError):
    """A state.json that is not a record pyoci wrote."""


class Unfinished(NotFound):
    """A directory whose create was interrupted before it wrote state.json."""

    def __init__(self, container_id):
        PyociError.__init__(self, f"container does not exist: {container_id} (its create was interrupted; "
                                  "delete --force removes what it left)")


def atomic_write(path, data, mode=0o600):
    """Write data (bytes or str) to path so readers see all or nothing.

    Nobody else who may write path's directory (a --pid-file in a shared
    one) can steer the write: the temporary file has a random name and is
    made with O_EXCL|O_NOFOLLOW in the directory's fd, so a symlink planted
    there is never followed, and rename replaces one planted at path
    itself instead of writing through it.

    Durable: the file is synced before the rename and the directory after
    it, so after a crash of the machine path holds the old data or the new,
    never a name for a file that was not written yet.  A full disk fails
    the write (ENOSPC), and the temporary file goes."""
    if isinstance(data, str):
        data = data.encode()
    name = basename(path)
    dir_fd = posix.open(dirname(path) or ".", posix.O_RDONLY | posix.O_DIRECTORY | posix.O_CLOEXEC)
    try:
        tmp = f".{name}.{posix.urandom(8).hex()}"
        fd = posix.open(tmp, posix.O_WRONLY | posix.O_CREAT | posix.O_EXCL | posix.O_NOFOLLOW | posix.O_CLOEXEC,
                        mode, dir_fd=dir_fd)
        try:
            write_all(fd, data)
            posix.fsync(fd)
        except BaseException:
            posix.unlink(tmp, dir_fd=dir_fd)
            raise
        finally:
            posix.close(fd)
        posix.rename(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        posix.fsync(dir_fd)
    finally:
        posix.close(dir_fd)


def write_pid_file(path, pid):
    """--pid-file (create, exec): pid, written as atomic_write writes; an
    error names the flag."""
    try:
        atomic_write(abspath(path), str(pid), 0o644)
    except OSError as e:
        raise PyociError(f"--pid-file {path}: {posix.strerror(e.errno).lower()}") from None


def write_all(fd, data):
    """write(2) until all of data is written: one call may write less."""
    view = memoryview(data)
    while view:
        view = view[posix.write(fd, view):]


def at_short_path(directory, name, action):
    """action(name) run from inside directory: a unix socket address holds
    at most 108 bytes, and state directories can be longer than that."""
    here = posix.open(".", posix.O_RDONLY | posix.O_CLOEXEC)
    try:
        posix.chdir(directory)
        return action(name)
    finally:
        posix.fchdir(here)
        posix.close(here)


# runc's rule, ^[\w+\-.]+$ with \w as ASCII: an id is a file name under the
# root, a cgroup name, a word in `list` and in the text --log, and nothing
# in it may be a separator there (a newline forged lines of `list -q`).
ID_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+-.")


def valid_id(container_id):
    if not container_id or container_id in (".", "..") or not ID_CHARACTERS.issuperset(container_id):
        raise PyociError(f"invalid container id {container_id!r}: only ASCII letters, digits, "
                         "'_', '+', '-' and '.' may be used")
    if len(container_id) > 1024:
        raise PyociError("invalid container id: longer than 1024 characters")
    return container_id


class Container:
    """One container's directory, record and lock."""

    def __init__(self, root, container_id):
        self.id = valid_id(container_id)
        self.root = root
        self.dir = join(root, container_id)
        self.record = None
        self._lock_fd = None

    # -- directory and lock ---------------------------------------------
    def make(self):
        """Create the directory (exclusively) and lock it; for create."""
        makedirs(self.root, 0o700)
        try:
            posix.mkdir(self.dir, 0o700)
        except FileExistsError:
            raise PyociError(f"container with given ID already exists: {self.id}") from None
        self.lock()

    def lock(self):
        try:
            fd = posix.open(self.dir, posix.O_RDONLY | posix.O_DIRECTORY | posix.O_CLOEXEC)
        except FileNotFoundError:
            raise NotFound(self.id) from None
        fcntl.flock(fd, fcntl.LOCK_EX)
        self._lock_fd = fd

    @property
    def locked(self):
        return self._lock_fd is not None

    def unlock(self):
        if self._lock_fd is not None:
            posix.close(self._lock_fd)
            self._lock_fd = None

    def remove(self):
        """Remove the directory and everything in it."""
        try:
            names = posix.listdir(self.dir)
        except FileNotFoundError:
            return
        for name in names:
            try:
                posix.unlink(join(self.dir, name))
            except FileNotFoundError:
                pass
        try:
            posix.rmdir(self.dir)
        except FileNotFoundError:
            pass

    # -- record -----------------------------------------------------------
    def load(self):
        """The record; NotFound without one (Unfinished where an interrupted
        create left the directory), Damaged for one that is not a record."""
        try:
            with open(join(self.dir, STATE_FILE), "rb") as f:
                text = f.read()
        except FileNotFoundError:
            raise (Unfinished if self._left_unfinished() else NotFound)(self.id) from None
        try:
            record = loads(text)
        except ValueError as e:
            raise Damaged(f"container {self.id}: {STATE_FILE} is damaged: {e}; delete --force removes "
                          "what it can find") from None
        missing = [key for key in RECORD_KEYS if key not in record] if isinstance(record, dict) else ["an object"]
        if missing:
            raise Damaged(f"container {self.id}: {STATE_FILE} is damaged: it lacks {', '.join(missing)}; "
                          "delete --force removes what it can find")
        self.record = record
        return record

    def _left_unfinished(self):
        """Whether the directory is there without a create at work in it
        (one would hold its lock): what a killed create left."""
        if self.locked:
            return exists(self.dir)
        try:
            fd = posix.open(self.dir, posix.O_RDONLY | posix.O_DIRECTORY | posix.O_CLOEXEC)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False
        finally:
            posix.close(fd)

    def save(self, record):
        self.record = record
        self._write(STATE_FILE, record)

    def save_cleanup(self, facts):
        """cleanup.json: the part of the record delete needs to take the
        container down (CLEANUP_KEYS), written before create makes what it
        names."""
        self._write(CLEANUP_FILE, facts)

    def load_cleanup(self):
        """cleanup.json's facts, or {} where there are none to read."""
        try:
            with open(join(self.dir, CLEANUP_FILE), "rb") as f:
                facts = loads(f.read())
        except (OSError, ValueError):
            return {}
        return facts if isinstance(facts, dict) else {}

    def _write(self, name, value):
        try:
            atomic_write(join(self.dir, name), dumps(value))
        except OSError as e:
            raise PyociError(f"{join(self.dir, name)}: {posix.strerror(e.errno).lower()}") from None

    @property
    def start_socket(self):
        return join(self.dir, START_SOCKET)

    # -- live facts ---------------------------------------------------------
    def init_alive(self):
        """True while the recorded init runs (not a zombie, not a reused pid)."""
        pid = self.record.get("pid", 0)
        if not pid:
            return False
        now = process_start_time(pid)
        return now is not None and now[0] == self.record["init_start_time"] and now[1] not in ("Z", "X")

    def status(self):
        if not self.init_alive():
            return "stopped"
        if self.record.get("status") == "creating":
            return "creating"
        if exists(self.start_socket):
            return "created"
        return "paused" if self.frozen() else "running"

    def frozen(self):
        """A freezer file create recorded (cgroups.freezer_files) says frozen."""
        for path in self.record.get("cgroup", {}).get("freezers", []):
            try:
                with open(path) as f:
                    if f.read().strip() == ("1" if path.endswith("cgroup.freeze") else "FROZEN"):
                        return True
            except OSError:
                continue
        return False

    def spec_state(self, status=None):
        """The state as the spec and runc print it."""
        r = self.record
        status = status or self.status()
        return {
            "ociVersion": r["ociVersion"],
            "id": self.id,
            "pid": r["pid"] if status != "stopped" else 0,
            "status": status,
            "bundle": r["bundle"],
            "rootfs": r["rootfs"],
            "created": r["created"],
            "owner": r.get("owner", ""),
            "annotations": r.get("annotations", {}),
        }


def list_ids(root):
    try:
        return sorted(n for n in posix.listdir(root) if isfile(join(root, n, STATE_FILE)))
    except FileNotFoundError:
        return []
