#!/usr/bin/env bash
# The pure cgroup v2 lane: boot Debian's kernel with cgroup_no_v1=all over a
# read-only snapshot of this machine (virtme-ng: the host's / over 9p, with
# writable overlays), lay out cgroups as systemd does, and run the
# integration suite there as root from a populated session scope.  Exits
# with the suite's status.  .ci/run runs it after the host suite.
#
#   scripts/test-v2.sh [pytest args...]   default: tests/integration
#   scripts/test-v2.sh --run CMD [ARGS...]  one command there instead (a bench)
#
# PYOCI_V2_ACCEL=kvm|tcg|auto (default auto: KVM when a probe boot works,
# else QEMU's TCG; nested KVM on some hosts cannot boot a stock kernel).
# PYOCI_V2_CONFORMANCE=0 leaves out the conformance suite's cgroup clauses,
# which run after the tests for pyoci, runc and crun.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh qemu-system-x86 linux-image-amd64 podman containerd uidmap criu
# virtme-ng drives QEMU: it snapshots the live system as the guest's root and
# runs one command there; pinned so that the lane boots the same way each time.
.venv/bin/pip install -q "virtme-ng==1.42"
export PATH="$PWD/.venv/bin:$PATH"

kernel=$(ls -1v /boot/vmlinuz-* | tail -n 1)
cpus=$(nproc)
memory=${PYOCI_V2_MEMORY:-8G}
# In the work tree, which the guest shares read-write.
results=$(mktemp -d "$PWD/.v2-lane.XXXXXX")
trap 'rm -rf "$results"' EXIT

boot() {  # boot SECONDS ACCEL COMMAND...
  local limit=$1 accel=$2; shift 2
  local flags=()
  [[ $accel == tcg ]] && flags+=(--disable-kvm)
  # Through a pipe: QEMU reopens the console's output, which truncates a
  # file our caller redirected us to (and the host lane's output with it).
  timeout "$limit" vng --run "$kernel" "${flags[@]}" --cpus "$cpus" --memory "$memory" --user root \
      --append "cgroup_no_v1=all" --rwdir "$PWD" \
      --exec "$*" < /dev/null 2>&1 | cat
}

accel=${PYOCI_V2_ACCEL:-auto}
if [[ $accel == auto ]]; then
  accel=tcg
  if [[ -r /dev/kvm && -w /dev/kvm ]] && boot 120 kvm true >/dev/null 2>&1; then
    accel=kvm
  fi
fi
echo "v2 lane: $kernel, $accel, $cpus cpus, $memory"

(($#)) || set -- tests/integration
guest_args=$(printf ' %q' "$@")
start=$(date +%s)
set +e
boot "${PYOCI_V2_TIMEOUT:-4800}" "$accel" \
  "PYOCI_V2_CONFORMANCE=${PYOCI_V2_CONFORMANCE:-1} bash $PWD/scripts/v2-guest.sh $results$guest_args"
booted=$?
set -e
echo "v2 lane: $(( $(date +%s) - start )) s"
if [[ ! -f $results/status ]]; then
  echo "v2 lane: the guest did not run the suite (vng exited $booted)" >&2
  exit 1
fi
exit "$(cat "$results/status")"
