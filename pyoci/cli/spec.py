"""Write a default config.json into a bundle directory."""
import os

from pyoci.cli import Flag
from pyoci.core.errors import PyociError
from pyoci.core.jsonio import dumps_pretty


FLAGS = [
    Flag(("-b", "--bundle"), "bundle", str, ".", "bundle directory (default: .)"),
    Flag("--rootless", "rootless", None, False, "a config for an unprivileged user"),
]
POSITIONALS = []


def run(ctx, args):
    from pyoci.spec.default import default_config

    path = os.path.join(args.bundle, "config.json")
    config = default_config(args.rootless, os.geteuid(), os.getegid())
    try:
        # "x": O_CREAT|O_EXCL, which also refuses a symlink planted there,
        # even a dangling one, instead of writing where it points.
        with open(path, "x") as f:
            f.write(dumps_pretty(config))
            f.write("\n")
    except FileExistsError:
        raise PyociError(f"File {path} exists. Remove it first") from None
    except OSError as e:
        raise PyociError(f"--bundle {args.bundle}: {os.strerror(e.errno).lower()}") from None
