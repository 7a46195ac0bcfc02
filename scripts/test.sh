#!/usr/bin/env bash
# The whole test suite: unit tests (no root needed) and integration tests
# that run real containers as root.  CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
# podman and containerd: the end-to-end tests drive pyoci through them;
# uidmap: newuidmap/newgidmap for the rootless tests' subordinate ids.
bash scripts/setup.sh podman containerd uidmap
# The console script keeps the work tree off sys.path: tests import and run
# the pyoci installed in .venv, as users get it.
exec .venv/bin/pytest -p no:cacheprovider -q tests "$@"
