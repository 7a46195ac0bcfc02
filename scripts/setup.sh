#!/usr/bin/env bash
# Install what pyoci needs on a Debian 12 machine (as root) and build it into
# a virtualenv at .venv.  Run by demo.sh and test.sh; safe to rerun.
# Arguments name more Debian packages (test.sh: the engines it drives).
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(gcc libc6-dev python3 python3-dev python3-venv libseccomp-dev busybox-static runc crun iproute2 procps "$@")

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  # Another apt (unattended-upgrades on a fresh machine) may hold the lock:
  # wait for it, up to ten minutes, rather than fail at once.
  lock_wait=(-o DPkg::Lock::Timeout=600)
  apt-get "${lock_wait[@]}" update -qq
  DEBIAN_FRONTEND=noninteractive apt-get "${lock_wait[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Debian's own interpreter: the one a fresh machine has.
PYTHON=/usr/bin/python3
[[ -x $PYTHON ]] || PYTHON=$(command -v python3)
if [[ ! -x .venv/bin/python ]]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/pip install -q --upgrade pip >/dev/null
# A real (non-editable) install: the shim is compiled and the modules
# byte-compiled at install, as users get it.
.venv/bin/pip install -q ".[test]"
