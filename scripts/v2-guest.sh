#!/usr/bin/env bash
# Inside the v2 lane's guest (scripts/test-v2.sh): make the cgroup layout a
# systemd host boots with, then run the suite from a session scope in it.
#
#   /                        cgroup2, nsdelegate; every controller enabled
#   /init.scope              the guest's own processes (systemd's PID 1 home)
#   /system.slice            empty, as a service slice would be
#   /user.slice              every controller enabled for its children
#   /user.slice/session-1.scope   this shell and the tests: a populated leaf
#
# A runtime started from session-1.scope may not enable controllers in it
# (the no-internal-process rule), which is what the lane is here to show.
set -euo pipefail
results=$1; shift
repo=$(cd "$(dirname "$0")/.." && pwd)
cg=/sys/fs/cgroup

mount -o remount,nsdelegate "$cg"
mkdir -p "$cg/init.scope" "$cg/system.slice" "$cg/user.slice/session-1.scope"
for pid in $(cat "$cg/cgroup.procs"); do
  echo "$pid" > "$cg/init.scope/cgroup.procs" 2>/dev/null || true  # kernel threads stay
done
for c in $(cat "$cg/cgroup.controllers"); do
  echo "+$c" > "$cg/cgroup.subtree_control"
  echo "+$c" > "$cg/user.slice/cgroup.subtree_control"
done
echo $$ > "$cg/user.slice/session-1.scope/cgroup.procs"

# virtme-ng binds files over /etc/shadow and a few others; useradd (the
# rootless tests' user) replaces /etc/shadow by rename, which a mount point
# refuses.  The guest's /etc is a throwaway overlay, so the copy can go.
umount /etc/shadow 2>/dev/null || true

# The snapshot's /tmp is an overlay on 9p; the tests' bundles and rootfs want
# a local filesystem, as on a real host.  A tmpfs of their own, not over /tmp:
# the work tree itself may be under /tmp (CI clones there).
mkdir -p /run/pyoci /run/lane-tmp
mount -t tmpfs -o mode=1777 tmpfs /run/lane-tmp
export TMPDIR=/run/lane-tmp

echo "v2 guest: $(uname -r), $(cat /proc/self/cgroup), controllers: $(cat "$cg/user.slice/cgroup.subtree_control")"
cd "$repo"
set +e
if [[ ${1:-} == --run ]]; then  # test-v2.sh --run CMD...: one command in this layout instead of the suite
  shift
  "$@"
  echo $? > "$results/status"
  exit 0
fi
.venv/bin/pytest -p no:cacheprovider -q "$@"
echo $? > "$results/status"

# The runtime-tools cgroup binaries cannot judge v2; our own suite's cgroup
# clauses can, for pyoci and the reference runtimes side by side.
# Informational: a clause a reference runtime fails is a finding, not a failure.
if [[ ${PYOCI_V2_CONFORMANCE:-1} != 0 ]]; then
  references=()
  for name in runc crun; do
    command -v "$name" >/dev/null && references+=(--runtime "$name=$(command -v "$name")")
  done
  .venv/bin/python conformance/suite.py --runtime "pyoci=$repo/.venv/bin/pyoci" "${references[@]}" \
    --only cgroupsPath cgroupsPath.relative resources.pids resources.memory resources.cpu resources.devices \
           resources.memory.oom
fi
