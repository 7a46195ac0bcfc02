"""Subcommand arguments: a small declarative parser in runc's style.

Each subcommand module lists its flags and positionals; `--flag=v` and
`--flag v` both work, flags may come before or after positionals (until a
bare `--`), and every error is a PyociError (exit 1, as runc).  argparse is
not used: building its parser imports gettext, locale and shutil, ~25 ms
on every call of a runtime that engines call per operation.
"""
from pyoci.errors import PyociError


class Flag:
    def __init__(self, names, dest, takes=None, default=None, help=""):
        self.names = names if isinstance(names, tuple) else (names,)
        self.dest = dest
        self.takes = takes  # None: a switch; str, int or "list": takes a value
        self.default = default
        self.help = help


class Namespace:
    def __init__(self, **values):
        self.__dict__.update(values)


def parse(prog, flags, positionals, argv, rest=None):
    """positionals: names, a trailing "?" marks one optional ("name?"),
    rest: dest for everything after the positionals (exec's command)."""
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
            if name not in by_name and not name.startswith("--") and len(name) > 2:
                name = "-" + name  # runc also takes -bundle
            flag = by_name.get(name)
            if flag is None:
                raise PyociError(f"{prog}: flag provided but not defined: {arg}")
            if flag.takes is None:
                if eq:
                    values[flag.dest] = value.lower() not in ("false", "0")
                else:
                    values[flag.dest] = True
            else:
                if not eq:
                    i += 1
                    if i >= len(argv):
                        raise PyociError(f"{prog}: flag needs an argument: {name}")
                    value = argv[i]
                if flag.takes is int:
                    try:
                        value = int(value)
                    except ValueError:
                        raise PyociError(f"{prog}: {name}: {value!r} is not a number") from None
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
        raise PyociError(f"{prog}: missing argument: {missing.upper()}")
    for name in positionals:
        key = name.rstrip("?")
        values[key] = found.pop(0) if found else None
    if found:
        if not rest:
            raise PyociError(f"{prog}: unexpected argument: {found[0]}")
        values[rest] = found
    return Namespace(**values)


def usage(prog, doc, flags, positionals, rest=None):
    line = f"usage: {prog} [flags] " + " ".join(p.rstrip("?").upper() if not p.endswith("?") else f"[{p[:-1].upper()}]"
                                               for p in positionals)
    if rest:
        line += f" [--] {rest.upper()}..."
    out = [line, "", doc.strip().splitlines()[0], ""]
    for f in flags:
        shown = ", ".join(f.names) + ("" if f.takes is None else " VALUE")
        out.append(f"  {shown:28} {f.help}")
    return "\n".join(out) + "\n"


CONTAINER_ID = ["container_id"]

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


def create_options(ctx, args):
    if args.preserve_fds < 0:
        raise PyociError("--preserve-fds: must not be negative")
    if args.pidfd_socket:
        raise PyociError("--pidfd-socket: not supported by pyoci yet")
    dry_run = getattr(args, "dry_run", False)
    # First thing, before create's imports and validation: the wait it
    # hides is longer than both (see cgroups.warm_migrations).
    from pyoci import cgroups

    stop_warming = (lambda: None) if dry_run else cgroups.warm_migrations(cgroups.hierarchies())
    from pyoci.runtime.create import Options  # the import the warm-up overlaps

    return Options(bundle=args.bundle, console_socket=args.console_socket, pid_file=args.pid_file,
                   no_pivot=args.no_pivot, preserve_fds=args.preserve_fds, systemd_cgroup=ctx.systemd_cgroup,
                   new_keyring=not args.no_new_keyring, dry_run=dry_run, stop_warming=stop_warming)
