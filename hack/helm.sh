#!/usr/bin/env bash
# Builds helm v3 from the Go module proxy into a cache outside the repository and prints the path
# of the binary. Does nothing when it is already built, or when HELM already names a helm binary.
set -euo pipefail
source "$(dirname "$0")/gobin.sh"

HELM_VERSION="${CTSYNC_HELM_VERSION:-v3.22.0}"
CACHE_ROOT="${CTSYNC_HELM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ctsync/helm}"
BIN="$CACHE_ROOT/$HELM_VERSION/bin/helm"

fail() { echo "hack/helm.sh: $*" >&2; exit 1; }

gobin_reuse HELM "$BIN" helm "$HELM_VERSION"

# helm v3.22's go.mod says `go 1.26.0`; an older Go would try to download a newer toolchain.
command -v go >/dev/null || fail "Go >= 1.26 is needed to build helm $HELM_VERSION (https://go.dev/doc/install), or set HELM to an existing helm v3 binary"
go_minor=$(go env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')
(( go_minor >= 26 )) || fail "Go >= 1.26 is needed to build helm $HELM_VERSION, found $(go env GOVERSION); or set HELM to an existing helm v3 binary"

gobin_fetch helm.sh/helm/v3/cmd/helm "$HELM_VERSION" "$BIN"

# As helm's own Makefile does: without these, `helm version` says v3.x-dev and helm lint/template
# assume Kubernetes 1.20 instead of the version of the client-go helm is built with.
client_go=$(go list -m -f '{{.Version}}' k8s.io/client-go)   # v0.<minor>.<patch> = Kubernetes 1.<minor>
kube_minor=$(cut -d. -f2 <<<"$client_go")
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$kube_minor"
done

gobin_build helm.sh/helm/v3/cmd/helm "$BIN" "$ldflags"
