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
set +e
.venv/bin/pytest -p no:cacheprovider -q tests "$@"
host=$?
set -e
# Then the integration suite again on pure cgroup v2, in a VM booted over this
# machine (scripts/test-v2.sh); PYOCI_V2_LANE=0 runs the host lane alone.
v2=0
if [[ ${PYOCI_V2_LANE:-1} != 0 ]]; then
  set +e
  bash scripts/test-v2.sh
  v2=$?
  set -e
fi
echo "lanes: host exit $host, pure cgroup v2 exit $v2"
exit $(( host != 0 ? host : v2 ))
