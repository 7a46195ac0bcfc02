#!/usr/bin/env bash
# The main job: install pyoci, build a busybox bundle, and run a container
# that shows its isolation (hostname, ps with the shell as PID 1, id, mounts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

bundle=$(mktemp -d /tmp/pyoci-demo.XXXXXX)
trap 'rm -rf "$bundle"' EXIT
.venv/bin/python -P - "$bundle" <<'PY'
import sys
sys.path.insert(0, "tests")
from bundle import default_config, make_rootfs, write_bundle
bundle = sys.argv[1]
make_rootfs(bundle + "/rootfs")
script = ("echo \"hostname: $(hostname)\"; echo; ps; echo; id; echo; "
          "echo 'mounts:'; cat /proc/self/mounts; echo; echo 'namespaces (inside):'; "
          "for ns in pid net mnt uts ipc cgroup; do readlink /proc/self/ns/$ns; done")
write_bundle(bundle, default_config(["sh", "-c", script]))
PY
echo "== pyoci run (bundle $bundle) =="
# Under set -e a failing run would end the script here: take its status.
status=0
.venv/bin/pyoci run --bundle "$bundle" "demo-$$" || status=$?
echo "== exit status $status =="
echo "namespaces (host):"
for ns in pid net mnt uts ipc cgroup; do readlink /proc/self/ns/$ns; done
exit "$status"
