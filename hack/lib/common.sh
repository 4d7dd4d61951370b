#!/usr/bin/env bash
# Shared helpers for the test-infrastructure scripts under hack/.
# Sourced, not executed. Everything lives in a cache OUTSIDE the repository, because CI runs in a
# fresh clone elsewhere where an ignored in-repo folder would always be empty.

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSIONS_FILE="${HACK_DIR}/versions.env"

log() { printf '[test-infra %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
  printf '[test-infra] ERROR: %s\n' "$*" >&2
  exit 1
}

# Parse versions.env as plain KEY=VALUE lines (never `source` it: the TypeScript harness parses the same
# file and must get the same answer).
load_versions() {
  [[ -f "$VERSIONS_FILE" ]] || die "missing $VERSIONS_FILE"
  local line key value
  while IFS= read -r line || [[ -n "$line" ]]; do
    line="${line%%#*}"
    line="${line#"${line%%[![:space:]]*}"}"
    line="${line%"${line##*[![:space:]]}"}"
    [[ -z "$line" ]] && continue
    [[ "$line" == *=* ]] || die "bad line in $VERSIONS_FILE: $line"
    key="${line%%=*}"
    value="${line#*=}"
    [[ "$key" =~ ^[A-Z_][A-Z0-9_]*$ ]] || die "bad key in $VERSIONS_FILE: $key"
    printf -v "$key" '%s' "$value"
    export "${key?}"
  done <"$VERSIONS_FILE"
  local required
  for required in KUBERNETES_VERSION ETCD_VERSION HELM_VERSION MOTO_VERSION GO_MIN_VERSION RECIPE_REVISION; do
    [[ -n "${!required:-}" ]] || die "$VERSIONS_FILE does not set $required"
  done
}

cache_root() { printf '%s\n' "${LPC_CACHE:-${HOME:?HOME is not set}/.cache/lambda-policy-controller}"; }

# The key of the bin dir: every pinned version. test/e2e/harness/binaries.ts computes the same string.
versions_key() {
  printf 'k8s-%s_etcd-%s_helm-%s_moto-%s_r%s\n' \
    "$KUBERNETES_VERSION" "$ETCD_VERSION" "$HELM_VERSION" "$MOTO_VERSION" "$RECIPE_REVISION"
}

bin_dir() { printf '%s/%s/bin\n' "$(cache_root)" "$(versions_key)"; }

# Each component is built into its own folder keyed by its own version, so bumping one pin rebuilds only it.
component_dir() { printf '%s/components/%s-r%s\n' "$(cache_root)" "$1" "$RECIPE_REVISION"; }

# version_ge A B: true when dotted version A >= B.
version_ge() { [[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" == "$2" ]]; }

require_go() {
  command -v go >/dev/null 2>&1 || die "Go is not installed or not on PATH. Install Go >= ${GO_MIN_VERSION} (https://go.dev/doc/install, or your distribution's golang package) and re-run $0."
  local have
  have="$(go env GOVERSION 2>/dev/null)" || die "'go env GOVERSION' failed; is the Go installation broken?"
  have="${have#go}"
  version_ge "$have" "$GO_MIN_VERSION" || die "Go ${have} is too old: need Go >= ${GO_MIN_VERSION} (Kubernetes ${KUBERNETES_VERSION} / Helm ${HELM_VERSION}). Install a newer Go and re-run $0."
}

require_python() {
  command -v python3 >/dev/null 2>&1 || die "python3 is not installed or not on PATH. Install Python >= 3.9 with the venv module (Debian: apt-get install python3 python3-venv) and re-run $0."
  python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || die "python3 has no working venv/ensurepip module (Debian: apt-get install python3-venv) and re-run $0."
}

# Go environment for every build: caches inside the LPC cache (fast rebuilds, nothing written to the repo or
# to the user's own GOPATH), the local toolchain only (no toolchain downloads), modules resolved from the
# proxy. The checksum database is off by default because only the module proxy is reachable on the build
# machines; set LPC_GOSUMDB=sum.golang.org where it is reachable.
go_env() {
  local root
  root="$(cache_root)"
  export GOCACHE="${root}/go/build-cache"
  export GOMODCACHE="${root}/go/mod-cache"
  export GOPATH="${root}/go/path"
  export GOTOOLCHAIN=local
  export GOSUMDB="${LPC_GOSUMDB:-off}"
  export GOFLAGS="-mod=mod -buildvcs=false"
  export CGO_ENABLED=0
  export GOWORK=off
  mkdir -p "$GOCACHE" "$GOMODCACHE" "$GOPATH"
}

# Path of the go.mod the proxy serves for MODULE@VERSION (downloads it into GOMODCACHE).
proxy_gomod() {
  local scratch out
  scratch="$(mktemp -d)"
  out="$(cd "$scratch" && GOFLAGS=-buildvcs=false go mod download -json "$1")" || {
    rm -rf "$scratch"
    # With -json, go reports the reason in an "Error" field on stdout.
    die "go mod download $1 failed: $(printf '%s\n' "$out" | sed -n 's/.*"Error": "\(.*\)".*/\1/p')
  (does the module proxy serve this version? check with: go list -m -versions ${1%@*}; GOPROXY=$(go env GOPROXY))"
  }
  rm -rf "$scratch"
  printf '%s\n' "$out" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p'
}

# Commit hash the proxy recorded for MODULE@VERSION, or "unknown".
proxy_commit() {
  local scratch out hash
  scratch="$(mktemp -d)"
  out="$(cd "$scratch" && GOFLAGS=-buildvcs=false go mod download -json "$1" 2>/dev/null)" || true
  rm -rf "$scratch"
  hash="$(printf '%s\n' "$out" | sed -n 's/.*"Hash": "\([0-9a-f]\{40\}\)".*/\1/p' | head -n1)"
  printf '%s\n' "${hash:-unknown}"
}

# The `go X.Y` line of a go.mod, used as the wrapper's godebug default so binaries keep upstream's defaults.
gomod_go_minor() { sed -n 's/^go \([0-9]*\.[0-9]*\).*/\1/p' "$1" | head -n1; }

# Prepare an empty wrapper module in DIR.
init_wrapper_module() {
  local dir="$1" name="$2" godebug="$3"
  rm -rf "$dir"
  mkdir -p "$dir"
  (
    cd "$dir"
    go mod init "$name" >/dev/null 2>&1 || die "go mod init $name failed"
    go mod edit -go="$(go env GOVERSION | sed 's/^go//')"
    if [[ -n "$godebug" ]]; then go mod edit -godebug="default=go${godebug}"; fi
  )
}

# Run a build step with a start/end progress line and its duration. The step's own output (pages of
# "go: downloading ...") goes to BUILD_LOG when set, and its tail is shown if the step fails.
timed() {
  local what="$1"
  shift
  local start=$SECONDS
  log "${what}..."
  if [[ -n "${BUILD_LOG:-}" ]]; then
    if ! "$@" >>"$BUILD_LOG" 2>&1; then
      tail -n 40 "$BUILD_LOG" >&2
      die "${what} failed (full log: ${BUILD_LOG})"
    fi
  else
    "$@" >&2 || die "${what} failed (see output above)"
  fi
  log "${what}: done in $((SECONDS - start))s"
}

# Components are built in place; the marker is written last, so a build that died half-way is redone.
component_complete() { [[ -f "$1/.complete" ]]; }
mark_complete() { date -u +%Y-%m-%dT%H:%M:%SZ >"$1/.complete"; }
