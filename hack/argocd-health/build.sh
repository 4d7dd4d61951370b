#!/usr/bin/env bash
# Builds hack/argocd-health (Argo CD's Lua health runtime + kstatus over fixture objects) into the test
# infrastructure cache, keyed by this folder's content, and prints the binary's path. Reuses hack/'s Go
# environment (module proxy, GOSUMDB off by default, caches under ~/.cache/lambda-policy-controller).
# Usage: hack/argocd-health/build.sh [--force]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "${HERE}/../lib/common.sh"
load_versions
require_go
go_env

KEY="$(cat "${HERE}/go.mod" "${HERE}/main.go" | sha256sum | cut -c1-16)"
DEST="$(cache_root)/argocd-health/${KEY}"
BIN="${DEST}/bin/argocd-health"
if [[ "${1:-}" != "--force" ]] && component_complete "$DEST"; then
  printf '%s\n' "$BIN"
  exit 0
fi

log "argocd-health: building into ${DEST}"
rm -rf "$DEST"
mkdir -p "$DEST/bin" "$DEST/src"
BUILD_LOG="$DEST/build.log"
SRC="$DEST/src"
cp "${HERE}/main.go" "${HERE}/go.mod" "$SRC/"

ARGO_VERSION="$(sed -n 's#^\s*github.com/argoproj/argo-cd/v3 \(v[^ ]*\)$#\1#p' "${HERE}/go.mod")"
[[ -n "$ARGO_VERSION" ]] || die "no argo-cd/v3 version in ${HERE}/go.mod"
UPSTREAM_GOMOD="$(proxy_gomod "github.com/argoproj/argo-cd/v3@${ARGO_VERSION}")"
[[ -f "$UPSTREAM_GOMOD" ]] || die "could not read argo-cd ${ARGO_VERSION}'s go.mod from the module proxy"
# Argo CD pins k8s.io/* (and a few others) with replace directives, which only apply in its own module: copy them,
# except the local ./gitops-engine one (a folder of its repository, not a module the proxy serves).
{
  printf '\nreplace (\n'
  awk '/^replace \($/ {inside=1; next} inside && /^\)$/ {inside=0; next} inside {print} /^replace [^(]/ {sub(/^replace /, ""); print}' \
    "$UPSTREAM_GOMOD" | grep -v '=> \./' | grep -v '^\s*//' | grep -v '^\s*$' | sed 's/^\s*/\t/'
  printf ')\n'
} >>"$SRC/go.mod"

timed "argocd-health: resolving modules" bash -c "cd '$SRC' && go mod tidy"
timed "argocd-health: go build" \
  bash -c "cd '$SRC' && go build -p \"\${LPC_BUILD_PARALLELISM:-2}\" -ldflags '-s -w' -o '$BIN' ."
mark_complete "$DEST"
log "argocd-health: built"
printf '%s\n' "$BIN"
