"""Print the features this runtime implements, as JSON (runtime-spec features.md)."""
import json
import sys


FLAGS = []
POSITIONALS = []


def run(ctx, args):
    from pyoci.features import features

    sys.stdout.write(json.dumps(features(), indent=2) + "\n")
