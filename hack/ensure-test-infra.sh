#!/usr/bin/env bash
# Make sure the pinned test infrastructure exists in the cache, building only what is missing, and print
# the bin dir (the only thing written to stdout; progress goes to stderr).
#
#   hack/ensure-test-infra.sh                 build what is missing, print the bin dir
#   hack/ensure-test-infra.sh --print-bin-dir print the bin dir without building anything (exit 1 if incomplete)
#   hack/ensure-test-infra.sh --force         rebuild every component
#
# Environment: LPC_CACHE (default $HOME/.cache/lambda-policy-controller), LPC_GOSUMDB (default off),
# LPC_BUILD_PARALLELISM (go build -p, default 2). Versions: hack/versions.env.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
load_versions

BIN_DIR="$(bin_dir)"
TOOLS=(kube-apiserver kubectl etcd helm moto_server)

bin_dir_complete() {
  local t
  for t in "${TOOLS[@]}"; do [[ -x "$BIN_DIR/$t" ]] || return 1; done
}

case "${1:-}" in
--print-bin-dir)
  if bin_dir_complete; then
    printf '%s\n' "$BIN_DIR"
    exit 0
  fi
  die "test infrastructure for $(versions_key) is not built yet in ${BIN_DIR}: run hack/ensure-test-infra.sh"
  ;;
--force | "") ;;
-h | --help)
  sed -n '2,12p' "$0"
  exit 0
  ;;
*) die "unknown argument: $1 (try --help)" ;;
esac
FORCE="${1:-}"

ROOT="$(cache_root)"
mkdir -p "$ROOT"
# Two runs at once (CI and a developer, two terminals) must not build into the same folders.
exec 9>"$ROOT/.lock"
if ! flock -n 9; then
  log "another ensure-test-infra.sh holds ${ROOT}/.lock; waiting for it"
  flock 9
fi

start=$SECONDS
log "versions: kubernetes v${KUBERNETES_VERSION}, etcd v${ETCD_VERSION}, helm v${HELM_VERSION}, moto ${MOTO_VERSION} (cache ${ROOT})"
# Python first: it is quick, and a missing python3 should fail before a long Go build.
bash "$HACK_DIR/install-moto.sh" $FORCE
bash "$HACK_DIR/install-localstack.sh" $FORCE
bash "$HACK_DIR/build-etcd.sh" $FORCE
bash "$HACK_DIR/build-helm.sh" $FORCE
bash "$HACK_DIR/build-kubernetes.sh" $FORCE

# The bin dir holds symlinks into the per-component folders, so it can be recreated cheaply.
PY="$(python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
mkdir -p "$BIN_DIR"
ln -sfn "$(component_dir "kubernetes-v${KUBERNETES_VERSION}")/bin/kube-apiserver" "$BIN_DIR/kube-apiserver"
ln -sfn "$(component_dir "kubernetes-v${KUBERNETES_VERSION}")/bin/kubectl" "$BIN_DIR/kubectl"
ln -sfn "$(component_dir "etcd-v${ETCD_VERSION}")/bin/etcd" "$BIN_DIR/etcd"
ln -sfn "$(component_dir "helm-v${HELM_VERSION}")/bin/helm" "$BIN_DIR/helm"
ln -sfn "$(component_dir "moto-${MOTO_VERSION}-py${PY}")/venv/bin/moto_server" "$BIN_DIR/moto_server"
bin_dir_complete || die "bin dir ${BIN_DIR} is incomplete after the build"
log "ready in $((SECONDS - start))s: ${BIN_DIR}"
printf '%s\n' "$BIN_DIR"
