#!/usr/bin/env bash
# Make sure everything the single-node cluster of the install e2e needs exists, building only what is missing, and
# print the node dir (the only line on stdout; progress goes to stderr):
#   bin/   kubelet kube-scheduler kube-controller-manager kube-proxy (built from KUBERNETES_VERSION)
#   cni/   bridge host-local loopback portmap (CNI_PLUGINS_VERSION)
#   images/pause.tar (PAUSE_IMAGE, from hack/pause/pause.go)
# containerd and runc are Debian packages and are checked, not built. The image of the controller itself is
# hack/build-image.sh's (it changes with every commit, so the e2e builds it; buildah's layer cache keeps that quick).
#
#   hack/ensure-node-infra.sh                 build what is missing, print the node dir
#   hack/ensure-node-infra.sh --print-dir     print the node dir without building anything (exit 1 if incomplete)
#   hack/ensure-node-infra.sh --force         rebuild every node component
#
# Environment as hack/ensure-test-infra.sh (LPC_CACHE, LPC_GOSUMDB, LPC_BUILD_PARALLELISM). Versions: hack/versions.env.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/node.sh"
load_versions
require_node_versions

NODE_DIR="$(node_dir)"
K8S_TOOLS=(kubelet kube-scheduler kube-controller-manager kube-proxy)
CNI_TOOLS=(bridge host-local loopback portmap)

node_dir_complete() {
  local t
  for t in "${K8S_TOOLS[@]}"; do [[ -x "$NODE_DIR/bin/$t" ]] || return 1; done
  for t in "${CNI_TOOLS[@]}"; do [[ -x "$NODE_DIR/cni/$t" ]] || return 1; done
  [[ -f "$NODE_DIR/images/pause.tar" ]]
}

case "${1:-}" in
--print-dir)
  if node_dir_complete; then
    printf '%s\n' "$NODE_DIR"
    exit 0
  fi
  die "the node for $(node_versions_key) is not built yet in ${NODE_DIR}: run hack/ensure-node-infra.sh"
  ;;
--force | "") ;;
-h | --help)
  sed -n '2,16p' "$0"
  exit 0
  ;;
*) die "unknown argument: $1 (try --help)" ;;
esac
FORCE="${1:-}"

# Prerequisites first, so a missing package fails in a second and not after a long Go build.
require_root "the single-node cluster"
require_command containerd containerd
require_command containerd-shim-runc-v2 containerd
require_command ctr containerd
require_command runc runc
require_command iptables iptables
require_command ip iproute2
require_command nsenter util-linux
require_command buildah buildah
require_version_prefix "containerd" "$CONTAINERD_VERSION" "$(containerd_version)" containerd
require_version_prefix "runc" "$RUNC_VERSION" "$(runc_version)" runc
[[ -d /sys/fs/cgroup/pids || -f /sys/fs/cgroup/cgroup.controllers ]] ||
  die "no cgroup hierarchy with the pids controller under /sys/fs/cgroup: the kubelet cannot run pods here"

ROOT="$(cache_root)"
mkdir -p "$ROOT"
# The same lock as hack/ensure-test-infra.sh: both share the Go caches.
exec 9>"$ROOT/.lock"
if ! flock -n 9; then
  log "another build holds ${ROOT}/.lock; waiting for it"
  flock 9
fi

start=$SECONDS
log "node: kubernetes v${KUBERNETES_VERSION}, cni plugins v${CNI_PLUGINS_VERSION}, containerd $(containerd_version), runc $(runc_version), ${PAUSE_IMAGE} (cache ${ROOT})"
bash "$HACK_DIR/build-cni-plugins.sh" $FORCE
PAUSE_ARCHIVE="$(bash "$HACK_DIR/build-pause-image.sh" $FORCE)"
bash "$HACK_DIR/build-kubernetes-node.sh" $FORCE

# Symlinks into the per-component folders, so the node dir can be recreated cheaply.
mkdir -p "$NODE_DIR/bin" "$NODE_DIR/cni" "$NODE_DIR/images"
for t in "${K8S_TOOLS[@]}"; do
  ln -sfn "$(node_component_dir "kubernetes-node-v${KUBERNETES_VERSION}")/bin/$t" "$NODE_DIR/bin/$t"
done
for t in "${CNI_TOOLS[@]}"; do
  ln -sfn "$(node_component_dir "cni-plugins-v${CNI_PLUGINS_VERSION}")/bin/$t" "$NODE_DIR/cni/$t"
done
ln -sfn "$PAUSE_ARCHIVE" "$NODE_DIR/images/pause.tar"
node_dir_complete || die "node dir ${NODE_DIR} is incomplete after the build"
log "node ready in $((SECONDS - start))s: ${NODE_DIR}"
printf '%s\n' "$NODE_DIR"
