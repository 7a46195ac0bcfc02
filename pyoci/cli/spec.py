"""Write a default config.json into a bundle directory."""
import json
import os

from pyoci.errors import PyociError


def add_arguments(parser):
    parser.add_argument("-b", "--bundle", default=".", help="bundle directory (default: .)")
    parser.add_argument("--rootless", action="store_true", help="a config for an unprivileged user")


def run(ctx, args):
    from pyoci.spec.default import default_config

    path = os.path.join(args.bundle, "config.json")
    if os.path.exists(path):
        raise PyociError(f"File {path} exists. Remove it first")
    config = default_config(args.rootless, os.getuid(), os.getgid())
    try:
        with open(path, "w") as f:
            json.dump(config, f, indent=2)
            f.write("\n")
    except OSError as e:
        raise PyociError(f"--bundle {args.bundle}: {os.strerror(e.errno).lower()}") from None
