"""Run a process in a created or running container: the command after the
id (and --), or --process FILE (a config.json process object).  It exits
with the process's status (128+N when killed by signal N), or 255 when the
runtime fails."""
from pyoci.cli import Flag
from pyoci.core.errors import PyociError

FLAGS = [
    Flag(("-p", "--process"), "process", str, None, "a process object (JSON) to run"),
    Flag(("-d", "--detach"), "detach", None, False, "do not wait for the process"),
    Flag("--pid-file", "pid_file", str, None, "write the process's host pid here"),
    Flag("--console-socket", "console_socket", str, None, "AF_UNIX socket that receives the pty master"),
    Flag("--pidfd-socket", "pidfd_socket", str, None, "AF_UNIX socket that receives a pidfd of the process"),
    Flag(("-t", "--tty"), "tty", None, False, "give the process a terminal (needs --console-socket)"),
    Flag("--cwd", "cwd", str, None, "working directory in the container"),
    Flag(("-e", "--env"), "env", "list", None, "set an environment variable (KEY=VALUE)"),
    Flag(("-u", "--user"), "user", str, None, "uid[:gid]"),
    Flag(("-g", "--additional-gids"), "additional_gids", "list", None, "an additional gid"),
    Flag(("-c", "--cap"), "caps", "list", None, "add a capability"),
    Flag("--no-new-privs", "no_new_privs", None, False, "set no_new_privs"),
    Flag("--apparmor", "apparmor", str, None, "AppArmor profile"),
    Flag("--process-label", "process_label", str, None, "SELinux label"),
    Flag("--preserve-fds", "preserve_fds", int, 0, "pass N fds after stdio"),
    Flag("--cgroup", "cgroup", "list", None, "an existing sub-cgroup to run in: [controller[,controller]:]path"),
    Flag("--ignore-paused", "ignore_paused", None, False, "exec even in a paused container"),
]
POSITIONALS = ["container_id"]
REST = "command"
ERROR_EXIT = 255


def number(text, flag):
    try:
        return int(text)
    except ValueError:
        raise PyociError(f"{flag}: {text!r} is not a number") from None


def process_from_flags(template, args, log):
    """The container's process with exec's command and flags over it (runc's rules)."""
    if not args.command:
        raise PyociError("exec: no command given (ID [--] COMMAND... or --process FILE)")
    process = {key: value for key, value in template.items() if key not in ("args", "terminal", "consoleSize")}
    process["args"] = list(args.command)
    process["terminal"] = args.tty
    env = {item.partition("=")[0]: item for item in template.get("env", [])}
    for item in args.env:
        if "=" not in item:
            raise PyociError(f"--env: {item!r} is not KEY=VALUE")
        env[item.partition("=")[0]] = item
    process["env"] = list(env.values())
    if args.cwd:
        process["cwd"] = args.cwd
    user = dict(template.get("user", {"uid": 0, "gid": 0}))
    if args.user:
        uid, _, gid = args.user.partition(":")
        user["uid"] = number(uid, "--user")
        if gid:
            user["gid"] = number(gid, "--user")
    if args.additional_gids:
        user["additionalGids"] = [number(g, "--additional-gids") for g in args.additional_gids]
    process["user"] = user
    if args.caps:
        caps = {kind: list(names) for kind, names in template.get("capabilities", {}).items()}
        for cap in args.caps:
            for kind in ("bounding", "effective", "permitted"):
                if cap not in caps.setdefault(kind, []):
                    caps[kind].append(cap)
        process["capabilities"] = caps
    if args.no_new_privs:
        process["noNewPrivileges"] = True
    if args.apparmor:
        from pyoci.security import apparmor

        if not apparmor.enabled():
            raise PyociError("--apparmor: AppArmor is not enabled on this host")
        process["apparmorProfile"] = args.apparmor
    if args.process_label:
        log.debug("--process-label: no SELinux on this host, label not applied")
    return process


def process_from_file(path):
    """exec --process's object, validated as config.json's process is."""
    from pyoci.core.jsonio import loads
    from pyoci.spec.load import validate_process

    try:
        with open(path, "rb") as f:
            process = loads(f.read())
    except OSError as e:
        raise PyociError(f"--process {path}: {e.strerror.lower()}") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise PyociError(f"--process {path}: not valid JSON: {e}") from None
    validate_process(process, f"--process {path}")
    return process


def run(ctx, args):
    from pyoci.core.log import log
    from pyoci.runtime.exec import ExecOptions, container_for_exec, execute

    if args.preserve_fds < 0:
        raise PyociError("--preserve-fds: must not be negative")
    container, status = container_for_exec(ctx.root, args.container_id, args.ignore_paused)
    cgroup_dirs = container.record.get("cgroup", {}).get("dirs", {})
    if args.cgroup:
        from pyoci.cgroups import hierarchies
        from pyoci.cgroups.sub import sub_cgroup_dirs

        cgroup_dirs = sub_cgroup_dirs(args.cgroup, cgroup_dirs, hierarchies())
    # The namespaces, seccomp profile and process of the config create validated.
    config = container.record["exec"]
    if args.process:
        process = process_from_file(args.process)
    else:
        process = process_from_flags(config.get("process") or {}, args, log)
    opts = ExecOptions(cgroup_dirs, detach=args.detach, pid_file=args.pid_file, console_socket=args.console_socket,
                       preserve_fds=args.preserve_fds, pidfd_socket=args.pidfd_socket, paused=status == "paused")
    return execute(container, config, process, opts)
