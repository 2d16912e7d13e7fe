#!/usr/bin/env bash
# Builds the Kubernetes test binaries (kube-apiserver, etcd) from the Go module proxy into a
# cache outside the repository, and prints the directory that holds them. Does nothing when
# they are already there, or when KUBEBUILDER_ASSETS already points at envtest binaries.
set -euo pipefail

KUBE_VERSION="${CTSYNC_KUBE_VERSION:-1.35.4}"
ETCD_VERSION="${CTSYNC_ETCD_VERSION:-3.6.16}"
CACHE_ROOT="${CTSYNC_ENVTEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ctsync/envtest}"
BIN_DIR="$CACHE_ROOT/k8s-$KUBE_VERSION-etcd-$ETCD_VERSION/bin"

fail() { echo "hack/envtest.sh: $*" >&2; exit 1; }

if [[ -n "${KUBEBUILDER_ASSETS:-}" ]]; then
  [[ -x "$KUBEBUILDER_ASSETS/kube-apiserver" && -x "$KUBEBUILDER_ASSETS/etcd" ]] \
    || fail "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS lacks kube-apiserver or etcd; unset it to build them"
  echo "$KUBEBUILDER_ASSETS"; exit 0
fi
if [[ -x "$BIN_DIR/kube-apiserver" && -x "$BIN_DIR/etcd" ]]; then
  echo "$BIN_DIR"; exit 0
fi

command -v go >/dev/null || fail "Go >= 1.25 is needed to build kube-apiserver and etcd (https://go.dev/doc/install), or set KUBEBUILDER_ASSETS to existing envtest binaries"
go_minor=$(go env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')
(( go_minor >= 25 )) || fail "Go >= 1.25 is needed, found $(go env GOVERSION)"

minor=$(cut -d. -f2 <<<"$KUBE_VERSION")
staging_version="v0.${KUBE_VERSION#*.}"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$BIN_DIR"
export GOFLAGS=-mod=mod CGO_ENABLED=0

echo "building kube-apiserver v$KUBE_VERSION and etcd v$ETCD_VERSION into $BIN_DIR (first time only)" >&2

# k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them with ./staging paths
# that only exist in its repository: every one must be replaced with its published tag.
staging=(api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider
  cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api
  cri-client csi-translation-lib dynamic-resource-allocation endpointslice externaljwt kms
  kube-aggregator kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics
  mount-utils pod-security-admission sample-apiserver sample-cli-plugin sample-controller)
mkdir -p "$work/kapi" && cd "$work/kapi"
go mod init local/kapi-build >/dev/null 2>&1
{ echo "replace ("; for m in "${staging[@]}"; do echo "  k8s.io/$m => k8s.io/$m $staging_version"; done; echo ")"; } >> go.mod
go get "k8s.io/kubernetes/cmd/kube-apiserver@v$KUBE_VERSION" >&2 \
  || fail "could not download k8s.io/kubernetes v$KUBE_VERSION from the Go module proxy ($(go env GOPROXY))"
go build -trimpath -o "$BIN_DIR/kube-apiserver" \
  -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=v$KUBE_VERSION \
    -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor \
    -X k8s.io/component-base/version.gitTreeState=clean" \
  k8s.io/kubernetes/cmd/kube-apiserver >&2 || fail "building kube-apiserver failed (see above)"

# etcd's server module carries replace directives, so `go install pkg@version` refuses it.
mkdir -p "$work/etcd" && cd "$work/etcd"
go mod init local/etcd-build >/dev/null 2>&1
go get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION" >&2 \
  || fail "could not download go.etcd.io/etcd/server/v3 v$ETCD_VERSION from the Go module proxy"
go build -trimpath -ldflags "-s -w" -o "$BIN_DIR/etcd" go.etcd.io/etcd/server/v3 >&2 \
  || fail "building etcd failed (see above)"

echo "$BIN_DIR"
