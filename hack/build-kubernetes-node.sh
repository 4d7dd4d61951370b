#!/usr/bin/env bash
# Build kubelet, kube-scheduler, kube-controller-manager and kube-proxy at KUBERNETES_VERSION from the Go module
# proxy, through the same wrapper module as hack/build-kubernetes.sh (k8s.io/kubernetes replaces its staging
# modules with ./staging paths; the wrapper points each at its published v0.<minor>.<patch>). The Go build cache
# is shared with the kube-apiserver build, so most packages are already compiled when it ran first.
# Usage: hack/build-kubernetes-node.sh [--force]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/node.sh"
load_versions
require_node_versions
require_go
go_env

K="$KUBERNETES_VERSION"
MINOR="$(cut -d. -f2 <<<"$K")"
STAGING_VERSION="0.${K#*.}"
DEST="$(node_component_dir "kubernetes-node-v${K}")"
COMMANDS=(kubelet kube-scheduler kube-controller-manager kube-proxy)

if [[ "${1:-}" != "--force" ]] && component_complete "$DEST"; then
  log "kubernetes node v${K}: cached in ${DEST}"
  exit 0
fi

log "kubernetes node v${K}: building ${COMMANDS[*]} into ${DEST} (cold: many minutes on 2 cores)"
rm -rf "$DEST"
mkdir -p "$DEST/bin"
BUILD_LOG="$DEST/build.log"
SRC="$DEST/src"

UPSTREAM_GOMOD="$(proxy_gomod "k8s.io/kubernetes@v${K}")"
[[ -f "$UPSTREAM_GOMOD" ]] || die "could not read k8s.io/kubernetes@v${K}'s go.mod from the module proxy"
init_wrapper_module "$SRC" local/lpc-kubernetes-node-build "$(gomod_go_minor "$UPSTREAM_GOMOD")"

staging_modules="$(sed -n 's|^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*|\1|p' "$UPSTREAM_GOMOD")"
[[ -n "$staging_modules" ]] || die "found no staging replace directives in $UPSTREAM_GOMOD"
replace_args=()
for m in $staging_modules; do replace_args+=("-replace=${m}=${m}@v${STAGING_VERSION}"); done
(cd "$SRC" && go mod edit "${replace_args[@]}")

packages=()
for c in "${COMMANDS[@]}"; do packages+=("k8s.io/kubernetes/cmd/${c}"); done
tools=()
for p in "${packages[@]}"; do tools+=("${p}@v${K}"); done
timed "kubernetes node v${K}: resolving modules" bash -c "cd '$SRC' && go get -tool ${tools[*]}"

# Same version stamping as kube-apiserver: the kubelet reports it in the Node object, the scheduler and
# controller-manager compare it with the API server's.
COMMIT="$(proxy_commit "k8s.io/kubernetes@v${K}")"
BUILD_DATE="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
LDFLAGS="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  LDFLAGS+=" -X ${pkg}.gitVersion=v${K} -X ${pkg}.gitMajor=1 -X ${pkg}.gitMinor=${MINOR}"
  LDFLAGS+=" -X ${pkg}.gitCommit=${COMMIT} -X ${pkg}.gitTreeState=clean -X ${pkg}.buildDate=${BUILD_DATE}"
done

timed "kubernetes node v${K}: go build ${COMMANDS[*]}" \
  bash -c "cd '$SRC' && go build -p \"\${LPC_BUILD_PARALLELISM:-2}\" -trimpath -ldflags '$LDFLAGS' -o '$DEST/bin/' ${packages[*]}"

for c in "${COMMANDS[@]}"; do
  reported="$("$DEST/bin/$c" --version 2>&1 | head -n1)"
  [[ "$reported" == "Kubernetes v${K}" ]] || die "$c reports '${reported}', expected 'Kubernetes v${K}'"
done
mark_complete "$DEST"
log "kubernetes node v${K}: built ${COMMANDS[*]}"
