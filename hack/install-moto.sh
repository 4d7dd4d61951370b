#!/usr/bin/env bash
# Install moto[server]==MOTO_VERSION into a virtualenv in the cache (an independent AWS API peer for tests).
# The venv is keyed by the moto version and the Python minor version (a venv is tied to its interpreter).
# Usage: hack/install-moto.sh [--force]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
load_versions
require_python

V="$MOTO_VERSION"
PY="$(python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
DEST="$(component_dir "moto-${V}-py${PY}")"
VENV="$DEST/venv"

# A cached venv counts only if its interpreter still runs and still imports the pinned moto.
venv_healthy() {
  component_complete "$DEST" && [[ -x "$VENV/bin/moto_server" ]] &&
    [[ "$("$VENV/bin/python" -c 'import moto; print(moto.__version__)' 2>/dev/null)" == "$V" ]]
}

if [[ "${1:-}" != "--force" ]] && venv_healthy; then
  log "moto ${V}: cached in ${DEST}"
  exit 0
fi

log "moto ${V}: creating virtualenv (python ${PY}) in ${VENV}"
rm -rf "$DEST"
mkdir -p "$DEST"
BUILD_LOG="$DEST/build.log"
python3 -m venv "$VENV" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
# pip's own download cache also lives in the LPC cache, so a rebuild after a version bump is fast.
export PIP_CACHE_DIR
PIP_CACHE_DIR="$(cache_root)/pip-cache"
timed "moto ${V}: pip install moto[server]==${V}" \
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "moto[server]==${V}"
venv_healthy_after="$("$VENV/bin/python" -c 'import moto; print(moto.__version__)')" ||
  die "moto does not import from the new venv"
[[ "$venv_healthy_after" == "$V" ]] || die "venv has moto ${venv_healthy_after}, expected ${V}"
[[ -x "$VENV/bin/moto_server" ]] || die "moto_server is missing from ${VENV}/bin (did the [server] extra install?)"
mark_complete "$DEST"
log "moto ${V}: installed"
