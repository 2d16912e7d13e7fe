#!/usr/bin/env bash
# Builds actionlint (the GitHub Actions workflow checker) from the Go module proxy into a cache outside the
# repository and prints the path of the binary. Does nothing when it is already built, or when ACTIONLINT
# already names an actionlint binary.
set -euo pipefail
source "$(dirname "$0")/gobin.sh"

ACTIONLINT_VERSION="${CTSYNC_ACTIONLINT_VERSION:-v1.7.12}"
CACHE_ROOT="${CTSYNC_ACTIONLINT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ctsync/actionlint}"
BIN="$CACHE_ROOT/$ACTIONLINT_VERSION/bin/actionlint"

fail() { echo "hack/actionlint.sh: $*" >&2; exit 1; }

gobin_reuse ACTIONLINT "$BIN" actionlint "$ACTIONLINT_VERSION"
gobin_fetch github.com/rhysd/actionlint/cmd/actionlint "$ACTIONLINT_VERSION" "$BIN"
# As actionlint's own release build does, so that `actionlint -version` names the version.
gobin_build github.com/rhysd/actionlint/cmd/actionlint "$BIN" \
  "-s -w -X github.com/rhysd/actionlint.version=$ACTIONLINT_VERSION"
