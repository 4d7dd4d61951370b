#!/usr/bin/env bash
# Helpers for the single-node cluster and image scripts (hack/ensure-node-infra.sh, hack/build-*.sh).
# Sourced after lib/common.sh and load_versions.

require_node_versions() {
  local required
  for required in CNI_PLUGINS_VERSION CONTAINERD_VERSION RUNC_VERSION PAUSE_IMAGE STANDIN_DEBIAN_SUITE \
    STANDIN_BASE_IMAGE STANDIN_NPM_VERSION NODE_RECIPE_REVISION; do
    [[ -n "${!required:-}" ]] || die "$VERSIONS_FILE does not set $required"
  done
}

# Node components have their own recipe revision, so a change to them does not rebuild kube-apiserver/etcd.
node_component_dir() { printf '%s/components/%s-n%s\n' "$(cache_root)" "$1" "$NODE_RECIPE_REVISION"; }

# The key of the node bin dir: every pin the node is made of. test/e2e/harness/node-binaries.ts computes the same.
node_versions_key() {
  printf 'node-k8s-%s_cni-%s_containerd-%s_runc-%s_pause-%s_n%s\n' "$KUBERNETES_VERSION" "$CNI_PLUGINS_VERSION" \
    "$CONTAINERD_VERSION" "$RUNC_VERSION" "${PAUSE_IMAGE##*:}" "$NODE_RECIPE_REVISION"
}

node_dir() { printf '%s/%s\n' "$(cache_root)" "$(node_versions_key)"; }

require_root() {
  [[ "$(id -u)" == 0 ]] || die "$1 needs root (containers, cgroups, network namespaces); re-run as root"
}

# require_command CMD DEBIAN_PACKAGE: a clear error naming the package that brings CMD.
require_command() {
  command -v "$1" >/dev/null 2>&1 ||
    die "'$1' is not installed or not on PATH (Debian: apt-get install $2) and re-run $0"
}

# require_version_prefix WHAT WANT HAVE PACKAGE: the installed tool must be at the pinned version.
require_version_prefix() {
  local what="$1" want="$2" have="$3" package="$4"
  [[ "$have" == "$want"* ]] ||
    die "$what is ${have:-unknown}, the pin is ${want} (hack/versions.env). Install it (Debian: apt-get install ${package}) or change the pin"
}

containerd_version() { containerd --version 2>/dev/null | awk '{print $3}' | sed 's/~.*//; s/^v//'; }
runc_version() { runc --version 2>/dev/null | sed -n 's/^runc version \([0-9.]*\).*/\1/p'; }

# Node's version as package-lock.json's `node` dev dependency has it (the stand-in base runs the same Node).
locked_node_version() {
  local lock="$HACK_DIR/../package-lock.json" v
  [[ -f "$lock" ]] || die "missing $lock"
  v="$(sed -n '/"node_modules\/node": {/,/}/s/.*"version": "\([0-9.]*\)".*/\1/p' "$lock" | head -n1)"
  [[ -n "$v" ]] || die "package-lock.json has no node_modules/node version (is the \`node\` dev dependency gone?)"
  printf '%s\n' "$v"
}
