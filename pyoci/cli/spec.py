"""Write a default config.json into a bundle directory."""
import os

from pyoci.cli import Flag
from pyoci.errors import PyociError
from pyoci.jsonio import dumps_pretty


FLAGS = [
    Flag(("-b", "--bundle"), "bundle", str, ".", "bundle directory (default: .)"),
    Flag("--rootless", "rootless", None, False, "a config for an unprivileged user"),
]
POSITIONALS = []


def run(ctx, args):
    from pyoci.spec.default import default_config

    path = os.path.join(args.bundle, "config.json")
    if os.path.exists(path):
        raise PyociError(f"File {path} exists. Remove it first")
    config = default_config(args.rootless, os.geteuid(), os.getegid())
    try:
        with open(path, "w") as f:
            f.write(dumps_pretty(config))
            f.write("\n")
    except OSError as e:
        raise PyociError(f"--bundle {args.bundle}: {os.strerror(e.errno).lower()}") from None
