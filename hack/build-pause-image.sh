#!/usr/bin/env bash
# Build the pod sandbox image (PAUSE_IMAGE) from hack/pause/pause.go: a static Go binary in an image FROM scratch,
# saved as a docker-archive the node's containerd imports. Keyed by the tag and the source's hash.
# Usage: hack/build-pause-image.sh [--force]; prints the archive's path.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/node.sh"
load_versions
require_node_versions
require_go
require_root "building the pause image with buildah"
require_command buildah buildah
go_env

SOURCE="$HACK_DIR/pause/pause.go"
HASH="$(sha256sum "$SOURCE" | cut -c1-12)"
DEST="$(node_component_dir "pause-${PAUSE_IMAGE##*:}-${HASH}")"
ARCHIVE="$DEST/pause.tar"
if [[ "${1:-}" != "--force" ]] && component_complete "$DEST"; then
  log "pause image ${PAUSE_IMAGE}: cached in ${ARCHIVE}"
  printf '%s\n' "$ARCHIVE"
  exit 0
fi

log "pause image ${PAUSE_IMAGE}: building into ${DEST}"
rm -rf "$DEST"
mkdir -p "$DEST"
BUILD_LOG="$DEST/build.log"
init_wrapper_module "$DEST/src" local/lpc-pause ""
cp "$SOURCE" "$DEST/src/main.go"
timed "pause: go build" bash -c "cd '$DEST/src' && go build -trimpath -ldflags '-s -w' -o '$DEST/pause' ."

container="$(buildah from scratch)"
trap 'buildah rm "$container" >/dev/null 2>&1 || true' EXIT
timed "pause: image" bash -c "
  buildah copy '$container' '$DEST/pause' /pause &&
  buildah config --entrypoint '[\"/pause\"]' --user 65535:65535 --label io.lambda-policy-controller.stand-in=pause-${HASH} '$container' &&
  buildah commit --rm '$container' '$PAUSE_IMAGE'"
trap - EXIT
rm -f "$ARCHIVE"
timed "pause: save ${ARCHIVE}" buildah push "$PAUSE_IMAGE" "docker-archive:${ARCHIVE}:${PAUSE_IMAGE}"
mark_complete "$DEST"
log "pause image ${PAUSE_IMAGE}: built"
printf '%s\n' "$ARCHIVE"
