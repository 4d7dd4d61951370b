#!/usr/bin/env bash
# Install localstack-core[runtime]==LOCALSTACK_VERSION into a virtualenv in the cache: a third, independent AWS
# implementation for the Lambda control-plane contract tests (test/e2e/contract/localstack.test.ts). It runs as a
# plain Python process (no Docker): functions, versions, aliases and concurrency answer; nothing can be invoked.
# The dependencies are resolved with uv as PyPI had them on LOCALSTACK_EXCLUDE_NEWER (see hack/versions.env).
# Usage: hack/install-localstack.sh [--force]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
load_versions
require_python
[[ -n "${LOCALSTACK_VERSION:-}" && -n "${LOCALSTACK_EXCLUDE_NEWER:-}" && -n "${UV_VERSION:-}" ]] ||
  die "hack/versions.env must set LOCALSTACK_VERSION, LOCALSTACK_EXCLUDE_NEWER and UV_VERSION"

V="$LOCALSTACK_VERSION"
DEST="$(component_dir "localstack-${V}")"
VENV="$DEST/venv"
UV_DIR="$(component_dir "uv-${UV_VERSION}")"
UV="$UV_DIR/venv/bin/uv"

# A cached venv counts only if its interpreter still runs and still loads the pinned LocalStack's AWS components
# (the import a broken dependency set fails first).
venv_healthy() {
  component_complete "$DEST" && [[ -x "$VENV/bin/python" ]] &&
    [[ "$("$VENV/bin/python" -c 'import localstack.aws.components; from localstack import version; print(version.__version__)' 2>/dev/null)" == "$V" ]]
}

if [[ "${1:-}" != "--force" ]] && venv_healthy; then
  log "localstack ${V}: cached in ${DEST}"
  exit 0
fi

export PIP_CACHE_DIR UV_CACHE_DIR
PIP_CACHE_DIR="$(cache_root)/pip-cache"
UV_CACHE_DIR="$(cache_root)/uv-cache"
if ! component_complete "$UV_DIR" || [[ ! -x "$UV" ]]; then
  rm -rf "$UV_DIR"
  mkdir -p "$UV_DIR"
  python3 -m venv "$UV_DIR/venv" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
  timed "uv ${UV_VERSION}: pip install" "$UV_DIR/venv/bin/python" -m pip install --quiet --disable-pip-version-check "uv==${UV_VERSION}"
  mark_complete "$UV_DIR"
fi

log "localstack ${V}: creating virtualenv in ${VENV}"
rm -rf "$DEST"
mkdir -p "$DEST"
"$UV" venv --quiet --python "$(command -v python3)" "$VENV"
timed "localstack ${V}: uv pip install localstack-core[runtime]==${V} (PyPI as of ${LOCALSTACK_EXCLUDE_NEWER})" \
  "$UV" pip install --quiet --python "$VENV/bin/python" --exclude-newer "$LOCALSTACK_EXCLUDE_NEWER" \
  "localstack-core[runtime]==${V}"
venv_healthy_after="$("$VENV/bin/python" -c 'import localstack.aws.components; from localstack import version; print(version.__version__)')" ||
  die "localstack does not load from the new venv (Python $(python3 --version 2>&1); it needs >= 3.10)"
[[ "$venv_healthy_after" == "$V" ]] || die "venv has localstack ${venv_healthy_after}, expected ${V}"
mark_complete "$DEST"
log "localstack ${V}: installed"
