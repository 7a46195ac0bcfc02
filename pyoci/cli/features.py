"""Print the features this runtime implements, as JSON (runtime-spec features.md)."""
import sys

from pyoci.core.jsonio import dumps_pretty

FLAGS = []
POSITIONALS = []


def run(ctx, args):
    from pyoci.features import features

    sys.stdout.write(dumps_pretty(features()) + "\n")
