"""pyoci's command line: runc's global flags, then one subcommand and its flags.

Global flags are scanned by hand (both `--flag=v` and `--flag v`, as go-runc
and conmon send them); only the chosen subcommand's module is imported, so
`start` or `state` never pay for what `create` needs.  Each subcommand
module lists its flags and positionals for a small declarative parser in
runc's style: flags may come before or after positionals (until a bare
`--`).  argparse is not used: building its parser imports gettext, locale
and shutil, a cost every call would pay (see bench/README.md).  Every
failure becomes a message on stderr, an `error` record in --log, and exit
status 1.
"""
import gc
import posix  # not os: see pyoci.core.paths
import sys
from time import perf_counter

from pyoci.core.errors import PyociError
from pyoci.core.paths import abspath, join

# pyoci.launch.warmup.VARIABLE, tested here so that commands without a helper (all
# but create, run and exec) do not import pyoci.launch.warmup.
WARMUP_VARIABLE = b"PYOCI_WARMUP_PID"

# subcommand -> module in pyoci.cli
COMMANDS = {
    "create": "create",
    "start": "start",
    "run": "run",
    "state": "state",
    "kill": "kill",
    "pause": "pause",
    "resume": "resume",
    "ps": "ps",
    "update": "update",
    "events": "events",
    "exec": "exec",
    "delete": "delete",
    "checkpoint": "checkpoint",
    "restore": "restore",
    "list": "list",
    "spec": "spec",
    "features": "features",
}


class Flag:
    def __init__(self, names, dest, takes=None, default=None, help="", metavar="VALUE"):
        self.names = names if isinstance(names, tuple) else (names,)
        self.dest = dest
        self.takes = takes  # None: a switch; str, int or "list": takes a value
        self.default = default
        self.help = help
        self.metavar = metavar if takes is not None else None  # the value, as help and man pages name it


SUMMARY = "An OCI runtime-spec 1.3 container runtime with runc's command line."

# runc's global flags.  parse_globals reads them by hand; Context takes its
# defaults from here, and `pyoci --help` and pyoci(8) list them.
GLOBALS = [
    Flag("--root", "root", str, None, "state directory (default /run/pyoci; rootless: $XDG_RUNTIME_DIR/pyoci)", "DIR"),
    Flag("--log", "log_path", str, None, "append log records to PATH (default stderr)", "PATH"),
    Flag("--log-format", "log_format", str, "text", "log record format", "text|json"),
    Flag("--debug", "debug", None, False, "log debug records"),
    Flag("--systemd-cgroup", "systemd_cgroup", None, False, "cgroupsPath is slice:prefix:name"),
    # The value is optional: a bare --rootless is --rootless true.
    Flag("--rootless", "rootless", str, "auto",
         "skip cgroups the caller may not use (auto: unprivileged or in a user namespace)", "true|false|auto"),
    Flag("--criu", "criu", str, "criu", "CRIU binary for checkpoint and restore (default: criu on PATH)", "PATH"),
    Flag(("-h", "--help"), "show_help", None, False, "print this help"),
    Flag(("-v", "--version"), "show_version", None, False, "print the version of pyoci and of what it runs on"),
]
# global flag -> takes a value
GLOBAL_FLAGS = {name: flag.takes is not None for flag in GLOBALS for name in flag.names}
# dest -> value when the flag is not given
GLOBAL_DEFAULTS = {flag.dest: flag.default for flag in GLOBALS}
# The global flags pyoci.core.log.Log takes, in the order of its arguments.
LOG_FLAGS = ("log_path", "log_format", "debug")


def global_usage():
    """`pyoci --help`."""
    lines = ["usage: pyoci [global flags] COMMAND [flags] [arguments]", "", SUMMARY, "",
             "commands: " + ", ".join(COMMANDS), "", "global flags:"]
    for f in GLOBALS:
        shown = ", ".join(f.names) + (f" {f.metavar}" if f.metavar else "")
        lines.append(f"  {shown:22}  {f.help}")
    return "\n".join(lines) + "\n"


# Every command's own -h/--help, which parse() answers before its flags.
COMMAND_HELP = Flag(("-h", "--help"), "help", None, False, "show this help")


class HelpRequested(Exception):
    """-h or --help among a command's flags: print its usage, not an error."""


class Namespace:
    def __init__(self, **values):
        self.__dict__.update(values)


def parse(command, flags, positionals, argv, rest=None):
    """positionals: names, a trailing "?" marks one optional ("name?"),
    rest: dest for everything after the positionals (exec's command).

    -h or --help raises HelpRequested where a flag may stand: anywhere
    before a bare `--`, except inside exec's command or ps's options."""
    by_name = {n: f for f in flags for n in f.names}
    values = {f.dest: ([] if f.takes == "list" else f.default) for f in flags}
    if rest:
        values[rest] = []
    found = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        # Once the positionals are in, exec's command line is taken as it is.
        command_started = rest and len(found) >= len(positionals)
        if arg == "--" and (not command_started or len(found) == len(positionals)):
            found.extend(argv[i + 1:])
            break
        if arg.startswith("-") and len(arg) > 1 and not command_started:
            name, eq, value = arg.partition("=")
            if name in ("-h", "--help") and name not in by_name:
                raise HelpRequested()
            if name not in by_name and not name.startswith("--") and len(name) > 2:
                name = "-" + name  # runc also takes -bundle
            flag = by_name.get(name)
            if flag is None:
                raise PyociError(f"{command}: flag provided but not defined: {arg}")
            if flag.takes is None:
                if eq:
                    values[flag.dest] = value.lower() not in ("false", "0")
                else:
                    values[flag.dest] = True
            else:
                if not eq:
                    i += 1
                    if i >= len(argv):
                        raise PyociError(f"{command}: flag needs an argument: {name}")
                    value = argv[i]
                if flag.takes is int:
                    try:
                        value = int(value)
                    except ValueError:
                        raise PyociError(f"{command}: {name}: {value!r} is not a number") from None
                if flag.takes == "list":
                    values[flag.dest].append(value)
                else:
                    values[flag.dest] = value
        else:
            found.append(arg)
        i += 1

    required = [p for p in positionals if not p.endswith("?")]
    if len(found) < len(required):
        missing = required[len(found)]
        raise PyociError(f"{command}: missing argument: {missing.upper()}")
    for name in positionals:
        key = name.rstrip("?")
        values[key] = found.pop(0) if found else None
    if found:
        if not rest:
            raise PyociError(f"{command}: unexpected argument: {found[0]}")
        values[rest] = found
    return Namespace(**values)


def usage(prog, doc, flags, positionals, rest=None):
    line = f"usage: {prog} [flags] " + " ".join(p.rstrip("?").upper() if not p.endswith("?") else f"[{p[:-1].upper()}]"
                                               for p in positionals)
    if rest:
        line += f" [--] {rest.upper()}..."
    out = [line, "", doc.strip(), "", "flags:"]
    for f in flags + [COMMAND_HELP]:
        shown = ", ".join(f.names) + (f" {f.metavar}" if f.metavar else "")
        out.append(f"  {shown:28} {f.help}")
    return "\n".join(out) + "\n\nGlobal flags (pyoci --help) go before the command.\n"


CONTAINER_ID = ["container_id"]


class Context:
    """Global flags, as the subcommands see them: an attribute per GLOBALS
    entry (its dest)."""

    def __init__(self):
        self.__dict__.update(GLOBAL_DEFAULTS)
        # --root was not given and is $XDG_RUNTIME_DIR/pyoci (create makes it as runc does)
        self.root_in_xdg = False


def xdg_root():
    """$XDG_RUNTIME_DIR/pyoci when it is the default --root (rootless, as
    runc decides), else None."""
    xdg = posix.environ.get(b"XDG_RUNTIME_DIR")
    if not xdg:
        return None
    # The check costs a stat only for root with XDG_RUNTIME_DIR set: keep its module off every other call.
    if posix.geteuid() == 0:
        from pyoci.rootless import honor_xdg_runtime_dir

        if not honor_xdg_runtime_dir():
            return None
    return join(xdg.decode(errors="surrogateescape"), "pyoci")


def parse_globals(argv):
    """(Context, remaining argv starting at the subcommand)."""
    ctx = Context()
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        name, eq, value = argv[i].partition("=")
        if name.startswith("-") and not name.startswith("--") and len(name) > 2:
            name = "-" + name  # runc also takes -root
        if name not in GLOBAL_FLAGS:
            raise PyociError(f"flag provided but not defined: {argv[i]}")
        if GLOBAL_FLAGS[name] and not eq:
            if name == "--rootless" and (i + 1 >= len(argv) or argv[i + 1] not in ("true", "false", "auto")):
                value = "true"
            else:
                i += 1
                if i >= len(argv):
                    raise PyociError(f"flag needs an argument: {name}")
                value = argv[i]
        if name == "--root":
            ctx.root = value
        elif name == "--log":
            ctx.log_path = value
        elif name == "--log-format":
            if value not in ("text", "json"):
                raise PyociError(f"--log-format: unknown format {value!r} (text or json)")
            ctx.log_format = value
        elif name == "--debug":
            ctx.debug = True
        elif name == "--systemd-cgroup":
            ctx.systemd_cgroup = True
        elif name == "--rootless":
            if value not in ("true", "false", "auto"):
                raise PyociError(f"--rootless: {value!r} is not true, false or auto")
            ctx.rootless = value
        elif name == "--criu":
            ctx.criu = value
        elif name in ("--version", "-v"):
            ctx.show_version = True
        elif name in ("--help", "-h"):
            ctx.show_help = True
        i += 1
    if ctx.root is None:
        ctx.root = xdg_root()
        ctx.root_in_xdg = ctx.root is not None
    ctx.root = abspath(ctx.root or "/run/pyoci")
    return ctx, argv[i:]


def version_text():
    """What runc --version prints, with pyoci's own parts: the commit it
    was built from, the runtime-spec version, the Python that runs it and
    the libseccomp it loads.  Only this path and a config with
    linux.seccomp load libseccomp."""
    from pyoci import SPEC_VERSION, __version__
    from pyoci._build_info import COMMIT
    from pyoci.security.libseccomp import version as libseccomp_version

    # sys.version's first word is what platform.python_version() parses out of it.
    return (f"pyoci version {__version__}\ncommit: {COMMIT}\nspec: {SPEC_VERSION}\n"
            f"python: {sys.version.split()[0]}\nlibseccomp: {libseccomp_version()}\n")


def configure_log(ctx):
    """Hand this call's --log, --log-format and --debug to pyoci.core.log, if any
    was given.  Log's defaults are theirs, so without them the log module is
    not loaded until a record is written, which most start, state, kill and
    delete calls never do."""
    settings = [getattr(ctx, dest) for dest in LOG_FLAGS]
    if settings != [GLOBAL_DEFAULTS[dest] for dest in LOG_FLAGS]:
        from pyoci.core.log import log

        log.configure(*settings)


def main(argv=None):
    began = perf_counter()
    argv = sys.argv[1:] if argv is None else argv
    try:
        ctx, rest = parse_globals(argv)
        configure_log(ctx)
        if ctx.show_version or (rest and rest[0] == "version"):
            sys.stdout.write(version_text())
            return 0
        if ctx.show_help or not rest or rest[0] == "help":
            sys.stdout.write(global_usage())
            return 0
        name = rest[0]
        if name not in COMMANDS:
            raise PyociError(f"no such command: {name}")
        if ctx.debug:
            from pyoci.launch import steps

            steps.trace(name, began)
        # __import__, not importlib: importlib pulls in warnings on every call.
        module = getattr(__import__(f"pyoci.cli.{COMMANDS[name]}").cli, COMMANDS[name])
        command_rest = getattr(module, "REST", None)
        try:
            args = parse(name, module.FLAGS, module.POSITIONALS, rest[1:], command_rest)
        except HelpRequested:
            sys.stdout.write(usage(f"pyoci {name}", module.__doc__, module.FLAGS, module.POSITIONALS, command_rest))
            return 0
        try:
            return module.run(ctx, args) or 0
        except PyociError as e:
            # exec's own status is its command's: a failure of the runtime is 255.
            e.exit_code = getattr(module, "ERROR_EXIT", e.exit_code)
            raise
    except PyociError as e:
        return fail(str(e), e.exit_code)
    except KeyboardInterrupt:
        return 130
    except OSError as e:
        return fail(f"{e.filename + ': ' if e.filename else ''}{(e.strerror or str(e)).lower()}", 1)


def run_and_exit():
    """The `pyoci` command: main(), then the process ends at once.

    Interpreter teardown (freeing every module and what create built, then a
    last collection) costs time (see bench/README.md) and does nothing an
    engine can observe: every file a command writes is closed when it
    returns, and the lock on the state directory goes with the
    process.  Only stdio may hold buffered output.

    The cycle collector is off for the same reason: nothing a command builds
    has to be reclaimed before the process ends (a foreground `run` only
    waits), and the collections the schema's few thousand objects trigger
    would only cost create time."""
    gc.disable()
    code = main()
    if WARMUP_VARIABLE in posix.environ:  # the launcher's helper, if create or exec did not end it
        from pyoci.launch import warmup

        warmup.end()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: as Python would, lose it
            pass
    posix._exit(code)


def fail(message, code):
    from pyoci.core.log import log

    log.error(message)
    sys.stderr.write(f"pyoci: {message}\n")
    return code
