#!/usr/bin/env bash
# Build kube-apiserver and kubectl at KUBERNETES_VERSION from the Go module proxy.
#
# `go install k8s.io/kubernetes/cmd/...@vX` does not work: k8s.io/kubernetes' go.mod replaces its staging
# modules with ./staging/... paths. A small wrapper module requires k8s.io/kubernetes and replaces every
# staging module k8s.io/X with its published v0.<minor>.<patch> (kubernetes/kubernetes#79384).
# Usage: hack/build-kubernetes.sh [--force]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
load_versions
require_go
go_env

K="$KUBERNETES_VERSION"
MINOR="$(cut -d. -f2 <<<"$K")"
STAGING_VERSION="0.${K#*.}"
DEST="$(component_dir "kubernetes-v${K}")"

if [[ "${1:-}" != "--force" ]] && component_complete "$DEST"; then
  log "kubernetes v${K}: cached in ${DEST}"
  exit 0
fi

log "kubernetes v${K}: building kube-apiserver + kubectl into ${DEST} (cold build takes many minutes on 2 cores)"
rm -rf "$DEST"
mkdir -p "$DEST/bin"
BUILD_LOG="$DEST/build.log"
SRC="$DEST/src"

UPSTREAM_GOMOD="$(proxy_gomod "k8s.io/kubernetes@v${K}")"
[[ -f "$UPSTREAM_GOMOD" ]] || die "could not read k8s.io/kubernetes@v${K}'s go.mod from the module proxy"
init_wrapper_module "$SRC" local/lpc-kubernetes-build "$(gomod_go_minor "$UPSTREAM_GOMOD")"

staging_modules="$(sed -n 's|^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*|\1|p' "$UPSTREAM_GOMOD")"
[[ -n "$staging_modules" ]] || die "found no staging replace directives in $UPSTREAM_GOMOD"
log "kubernetes v${K}: replacing $(wc -w <<<"$staging_modules") staging modules with v${STAGING_VERSION}"
replace_args=()
for m in $staging_modules; do replace_args+=("-replace=${m}=${m}@v${STAGING_VERSION}"); done
(cd "$SRC" && go mod edit "${replace_args[@]}")

timed "kubernetes v${K}: resolving modules" \
  bash -c "cd '$SRC' && go get -tool k8s.io/kubernetes/cmd/kube-apiserver@v${K} k8s.io/kubernetes/cmd/kubectl@v${K}"

# Without these the binaries report v0.0.0-master, which breaks Helm's kubeVersion checks.
COMMIT="$(proxy_commit "k8s.io/kubernetes@v${K}")"
BUILD_DATE="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
LDFLAGS="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  LDFLAGS+=" -X ${pkg}.gitVersion=v${K} -X ${pkg}.gitMajor=1 -X ${pkg}.gitMinor=${MINOR}"
  LDFLAGS+=" -X ${pkg}.gitCommit=${COMMIT} -X ${pkg}.gitTreeState=clean -X ${pkg}.buildDate=${BUILD_DATE}"
done

timed "kubernetes v${K}: go build kube-apiserver kubectl" \
  bash -c "cd '$SRC' && go build -p \"\${LPC_BUILD_PARALLELISM:-2}\" -trimpath -ldflags '$LDFLAGS' -o '$DEST/bin/' k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl"

reported="$("$DEST/bin/kube-apiserver" --version)"
[[ "$reported" == "Kubernetes v${K}" ]] || die "kube-apiserver reports '${reported}', expected 'Kubernetes v${K}'"
"$DEST/bin/kubectl" version --client=true -o json | grep -q "\"gitVersion\": \"v${K}\"" ||
  die "kubectl does not report v${K}"
mark_complete "$DEST"
log "kubernetes v${K}: built ($reported)"
