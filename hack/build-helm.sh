#!/usr/bin/env bash
# Build the helm CLI at HELM_VERSION from the Go module proxy (helm has no replace directives, but it is
# built through a wrapper module like the others so the version ldflags and caches are handled the same way).
# Usage: hack/build-helm.sh [--force]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
load_versions
require_go
go_env

V="$HELM_VERSION"
DEST="$(component_dir "helm-v${V}")"
if [[ "${1:-}" != "--force" ]] && component_complete "$DEST"; then
  log "helm v${V}: cached in ${DEST}"
  exit 0
fi

log "helm v${V}: building into ${DEST}"
rm -rf "$DEST"
mkdir -p "$DEST/bin"
BUILD_LOG="$DEST/build.log"
SRC="$DEST/src"
UPSTREAM_GOMOD="$(proxy_gomod "helm.sh/helm/v3@v${V}")"
[[ -f "$UPSTREAM_GOMOD" ]] || die "could not read helm.sh/helm/v3@v${V}'s go.mod from the module proxy"
init_wrapper_module "$SRC" local/lpc-helm-build "$(gomod_go_minor "$UPSTREAM_GOMOD")"

timed "helm v${V}: resolving modules" bash -c "cd '$SRC' && go get -tool helm.sh/helm/v3/cmd/helm@v${V}"

# Same variables helm's own Makefile sets; the k8s version is the client-go helm was built against, which
# helm uses as the default .Capabilities.KubeVersion for `helm template`.
COMMIT="$(proxy_commit "helm.sh/helm/v3@v${V}")"
CLIENT_GO="$(cd "$SRC" && go list -m -f '{{.Version}}' k8s.io/client-go)"
K8S_MINOR="$(cut -d. -f2 <<<"${CLIENT_GO#v}")"
LDFLAGS="-s -w -X helm.sh/helm/v3/internal/version.version=v${V} -X helm.sh/helm/v3/internal/version.metadata="
LDFLAGS+=" -X helm.sh/helm/v3/internal/version.gitCommit=${COMMIT} -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
LDFLAGS+=" -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=${K8S_MINOR}"
LDFLAGS+=" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=${K8S_MINOR}"
timed "helm v${V}: go build" \
  bash -c "cd '$SRC' && go build -p \"\${LPC_BUILD_PARALLELISM:-2}\" -trimpath -ldflags '$LDFLAGS' -o '$DEST/bin/helm' helm.sh/helm/v3/cmd/helm"

reported="$("$DEST/bin/helm" version --template '{{.Version}}')"
[[ "$reported" == "v${V}" ]] || die "helm reports '${reported}', expected 'v${V}'"
mark_complete "$DEST"
log "helm v${V}: built ($reported)"
