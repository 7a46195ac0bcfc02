"""The os.path helpers pyoci needs, over the built-in `posix` module.

Importing `os` builds the collection ABCs for os.environ, a cost that
weighs on `start`, `state`, `kill` and `delete`, which do little else, and
on `create` (see bench/README.md).  So the modules of those commands call
`posix` directly, and these helpers stand in for os.path with the same
results for the paths pyoci handles (absolute or relative POSIX
paths, no bytes).
"""
import posix
from _stat import S_ISDIR, S_ISREG


def join(base, *parts):
    path = base
    for part in parts:
        if part.startswith("/") or not path:
            path = part
        else:
            path = f"{path}{'' if path.endswith('/') else '/'}{part}"
    return path


def dirname(path):
    head = path.rpartition("/")[0]
    return head.rstrip("/") or ("/" if path.startswith("/") else head)


def normpath(path):
    parts = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not path.startswith("/"):
                parts.append(part)
        else:
            parts.append(part)
    joined = "/".join(parts)
    return "/" + joined if path.startswith("/") else joined or "."


def basename(path):
    return path.rpartition("/")[2]


def isabs(path):
    return path.startswith("/")


def abspath(path):
    return normpath(path if path.startswith("/") else join(posix.getcwd(), path))


def realpath(path):
    """os.path.realpath, with the symlinks resolved by the kernel (O_PATH,
    then /proc/self/fd); of a path that does not exist, the part that does
    is resolved (after `..` is taken lexically)."""
    try:
        fd = posix.open(path, posix.O_PATH | posix.O_CLOEXEC)
    except (OSError, ValueError):
        path = abspath(path)
        parent = dirname(path)
        return path if parent == path else join(realpath(parent), basename(path))
    try:
        return posix.readlink(f"/proc/self/fd/{fd}")
    finally:
        posix.close(fd)


def _mode(path):
    try:
        return posix.stat(path).st_mode
    except (OSError, ValueError):
        return None


def exists(path):
    return _mode(path) is not None


def isdir(path):
    mode = _mode(path)
    return mode is not None and S_ISDIR(mode)


def isfile(path):
    mode = _mode(path)
    return mode is not None and S_ISREG(mode)


def makedirs(path, mode=0o777):
    """os.makedirs(path, mode, exist_ok=True)."""
    if isdir(path):
        return
    parent = dirname(path)
    if parent and parent != path:
        makedirs(parent, mode)
    try:
        posix.mkdir(path, mode)
    except FileExistsError:
        if not isdir(path):
            raise


# What a command run with no PATH searches (podman runs pyoci so).
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def which(name):
    """name as an executable's path: as given when it has a slash, else the
    first in $PATH (DEFAULT_PATH when unset or empty); None if there is none."""
    if "/" in name:
        candidates = [name]
    else:
        search = posix.environ.get(b"PATH", b"").decode(errors="surrogateescape") or DEFAULT_PATH
        candidates = [join(d or ".", name) for d in search.split(":")]
    return next((c for c in candidates if isfile(c) and posix.access(c, posix.X_OK)), None)
