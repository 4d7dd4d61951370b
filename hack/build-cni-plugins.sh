#!/usr/bin/env bash
# Build the CNI plugins the node uses (bridge, host-local, loopback, portmap) at CNI_PLUGINS_VERSION from the Go
# module proxy (github.com/containernetworking/plugins), through a wrapper module like the other components.
# Usage: hack/build-cni-plugins.sh [--force]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/node.sh"
load_versions
require_node_versions
require_go
go_env

V="$CNI_PLUGINS_VERSION"
DEST="$(node_component_dir "cni-plugins-v${V}")"
MODULE=github.com/containernetworking/plugins
PLUGINS=(plugins/main/bridge plugins/ipam/host-local plugins/main/loopback plugins/meta/portmap)

if [[ "${1:-}" != "--force" ]] && component_complete "$DEST"; then
  log "cni plugins v${V}: cached in ${DEST}"
  exit 0
fi

log "cni plugins v${V}: building bridge, host-local, loopback, portmap into ${DEST}"
rm -rf "$DEST"
mkdir -p "$DEST/bin"
BUILD_LOG="$DEST/build.log"
SRC="$DEST/src"
UPSTREAM_GOMOD="$(proxy_gomod "${MODULE}@v${V}")"
[[ -f "$UPSTREAM_GOMOD" ]] || die "could not read ${MODULE}@v${V}'s go.mod from the module proxy"
init_wrapper_module "$SRC" local/lpc-cni-build "$(gomod_go_minor "$UPSTREAM_GOMOD")"

tools=()
packages=()
for p in "${PLUGINS[@]}"; do
  tools+=("${MODULE}/${p}@v${V}")
  packages+=("${MODULE}/${p}")
done
timed "cni plugins v${V}: resolving modules" bash -c "cd '$SRC' && go get -tool ${tools[*]}"
# The plugins print this version for `VERSION` requests (CNI's buildversion package).
LDFLAGS="-s -w -X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=v${V}"
timed "cni plugins v${V}: go build" \
  bash -c "cd '$SRC' && go build -p \"\${LPC_BUILD_PARALLELISM:-2}\" -trimpath -ldflags '$LDFLAGS' -o '$DEST/bin/' ${packages[*]}"

for p in bridge host-local loopback portmap; do
  [[ -x "$DEST/bin/$p" ]] || die "cni plugin $p was not built"
  # A plugin answers the VERSION command without any network setup.
  CNI_COMMAND=VERSION "$DEST/bin/$p" </dev/null | grep -q cniVersion || die "cni plugin $p does not answer VERSION"
done
mark_complete "$DEST"
log "cni plugins v${V}: built"
