#!/usr/bin/env bash
# Build etcd at ETCD_VERSION from the Go module proxy. The etcd main package is the root of
# go.etcd.io/etcd/server/v3, whose go.mod has replace directives, so it is built through a wrapper module.
# Usage: hack/build-etcd.sh [--force]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
load_versions
require_go
go_env

V="$ETCD_VERSION"
DEST="$(component_dir "etcd-v${V}")"
if [[ "${1:-}" != "--force" ]] && component_complete "$DEST"; then
  log "etcd v${V}: cached in ${DEST}"
  exit 0
fi

log "etcd v${V}: building into ${DEST}"
rm -rf "$DEST"
mkdir -p "$DEST/bin"
BUILD_LOG="$DEST/build.log"
SRC="$DEST/src"
UPSTREAM_GOMOD="$(proxy_gomod "go.etcd.io/etcd/server/v3@v${V}")"
[[ -f "$UPSTREAM_GOMOD" ]] || die "could not read go.etcd.io/etcd/server/v3@v${V}'s go.mod from the module proxy"
init_wrapper_module "$SRC" local/lpc-etcd-build "$(gomod_go_minor "$UPSTREAM_GOMOD")"

timed "etcd v${V}: resolving modules" bash -c "cd '$SRC' && go get -tool go.etcd.io/etcd/server/v3@v${V}"

COMMIT="$(proxy_commit "go.etcd.io/etcd/server/v3@v${V}")"
LDFLAGS="-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=${COMMIT:0:10}"
timed "etcd v${V}: go build" \
  bash -c "cd '$SRC' && go build -p \"\${LPC_BUILD_PARALLELISM:-2}\" -trimpath -ldflags '$LDFLAGS' -o '$DEST/bin/etcd' go.etcd.io/etcd/server/v3"

reported="$("$DEST/bin/etcd" --version | head -n1)"
[[ "$reported" == "etcd Version: ${V}" ]] || die "etcd reports '${reported}', expected 'etcd Version: ${V}'"
mark_complete "$DEST"
log "etcd v${V}: built ($reported)"
