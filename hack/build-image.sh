#!/usr/bin/env bash
# Build the repository's Dockerfile without a Docker daemon: `buildah bud --pull=never --isolation chroot` on the
# stand-in base (hack/build-standin-base.sh; image registries are unreachable here), tagged like the released image
# and saved as a docker-archive, which the e2e node imports into its containerd (`ctr -n k8s.io images import`).
#
#   hack/build-image.sh      prints the archive's path (the only line on stdout)
#
# Environment: LPC_IMAGE (default lambda-policy-controller:<package.json version>), LPC_CACHE.
# Buildah's layer cache makes a rebuild with unchanged package*.json take seconds.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/node.sh"
load_versions
require_node_versions
require_root "building the image with buildah"
require_command buildah buildah
require_command python3 python3

case "${1:-}" in
"") ;;
-h | --help)
  sed -n '2,9p' "$0"
  exit 0
  ;;
*) die "unknown argument: $1 (try --help)" ;;
esac

REPO="$(cd "$HACK_DIR/.." && pwd)"
VERSION="$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$REPO/package.json" | head -n1)"
[[ -n "$VERSION" ]] || die "no version in package.json"
IMAGE="${LPC_IMAGE:-lambda-policy-controller:${VERSION}}"
REVISION="$(git -C "$REPO" rev-parse HEAD 2>/dev/null || echo unknown)"
OUT_DIR="$(cache_root)/images"
ARCHIVE="${OUT_DIR}/$(tr '/:' '__' <<<"$IMAGE").tar"
mkdir -p "$OUT_DIR"

bash "$HACK_DIR/build-standin-base.sh"

BUILD_LOG="${OUT_DIR}/build.log"
: >"$BUILD_LOG"
timed "image ${IMAGE}: buildah bud (log ${BUILD_LOG})" \
  buildah bud --pull=never --isolation chroot --layers --build-arg "VERSION=${VERSION}" \
  --build-arg "REVISION=${REVISION}" -t "$IMAGE" -f "$REPO/Dockerfile" "$REPO"
rm -f "$ARCHIVE"
timed "image ${IMAGE}: save ${ARCHIVE}" buildah push --quiet "$IMAGE" "docker-archive:${ARCHIVE}:${IMAGE}"

# Sizes from the archive: every layer uncompressed, and how many of them are the base's.
base_layers="$(buildah inspect --type image --format '{{len .OCIv1.RootFS.DiffIDs}}' "$STANDIN_BASE_IMAGE")"
python3 - "$ARCHIVE" "$base_layers" "$IMAGE" <<'PY' >&2
import json, sys, tarfile
archive, base_layers, image = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with tarfile.open(archive) as tar:
    manifest = json.load(tar.extractfile('manifest.json'))[0]
    sizes = [tar.getmember(layer).size for layer in manifest['Layers']]
mb = lambda n: f"{n / 1e6:.1f} MB"
app = sizes[base_layers:]
print(f"[test-infra] image {image}: {mb(sum(sizes))} uncompressed; base {mb(sum(sizes[:base_layers]))}, "
      f"app layers {mb(sum(app))} ({', '.join(mb(s) for s in app)})")
PY

printf '%s\n' "$ARCHIVE"
