#!/usr/bin/env bash
# Builds actionlint (the GitHub Actions workflow checker) from the Go module proxy into a cache outside the
# repository and prints the path of the binary. Does nothing when it is already built, or when ACTIONLINT
# already names an actionlint binary.
set -euo pipefail

ACTIONLINT_VERSION="${CTSYNC_ACTIONLINT_VERSION:-v1.7.12}"
CACHE_ROOT="${CTSYNC_ACTIONLINT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ctsync/actionlint}"
BIN="$CACHE_ROOT/$ACTIONLINT_VERSION/bin/actionlint"

fail() { echo "hack/actionlint.sh: $*" >&2; exit 1; }

if [[ -n "${ACTIONLINT:-}" ]]; then
  [[ -x "$ACTIONLINT" ]] || fail "ACTIONLINT=$ACTIONLINT is not an executable file; unset it to build actionlint $ACTIONLINT_VERSION"
  echo "$ACTIONLINT"; exit 0
fi
if [[ -x "$BIN" ]]; then
  echo "$BIN"; exit 0
fi

command -v go >/dev/null || fail "Go is needed to build actionlint $ACTIONLINT_VERSION (https://go.dev/doc/install), or set ACTIONLINT to an existing actionlint binary"

work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"
export GOFLAGS=-mod=mod CGO_ENABLED=0
echo "building actionlint $ACTIONLINT_VERSION into $BIN (first time only)" >&2

go mod init local/actionlint-build >/dev/null 2>&1
go get "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION" >&2 \
  || fail "could not download github.com/rhysd/actionlint $ACTIONLINT_VERSION from the Go module proxy ($(go env GOPROXY))"

# As actionlint's own release build does, so that `actionlint -version` names the version.
ldflags="-s -w -X github.com/rhysd/actionlint.version=$ACTIONLINT_VERSION"
# Build next to the target and rename, so an interrupted build never leaves a half-written actionlint.
mkdir -p "$(dirname "$BIN")"
go build -trimpath -ldflags "$ldflags" -o "$BIN.partial" github.com/rhysd/actionlint/cmd/actionlint >&2 \
  || fail "building actionlint $ACTIONLINT_VERSION failed (see above)"
mv "$BIN.partial" "$BIN"
echo "$BIN"
