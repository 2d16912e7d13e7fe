# Sourced by the scripts that build a binary from the Go module proxy into a cache outside the repository
# (hack/helm.sh, hack/actionlint.sh). The script defines fail() first; a workdir trap is set here.

# gobin_reuse VAR BIN NAME VERSION: when $VAR names an executable, or BIN is already built, prints it and exits.
gobin_reuse() {
  local var=$1 bin=$2 name=$3 version=$4
  local override=${!var:-}
  if [[ -n "$override" ]]; then
    [[ -x "$override" ]] || fail "$var=$override is not an executable file; unset it to build $name $version"
    echo "$override"; exit 0
  fi
  if [[ -x "$bin" ]]; then
    echo "$bin"; exit 0
  fi
}

# gobin_fetch PACKAGE VERSION BIN: in a fresh module in a temporary directory (the current directory from
# then on), downloads PACKAGE's module at VERSION from the Go module proxy.
gobin_fetch() {
  local package=$1 version=$2 bin=$3
  command -v go >/dev/null || fail "Go is needed to build $package $version (https://go.dev/doc/install)"
  gobin_work=$(mktemp -d); trap 'rm -rf "$gobin_work"' EXIT
  cd "$gobin_work"
  export GOFLAGS=-mod=mod CGO_ENABLED=0
  echo "building $package $version into $bin (first time only)" >&2
  go mod init local/gobin >/dev/null 2>&1
  go get "$package@$version" >&2 \
    || fail "could not download $package $version from the Go module proxy ($(go env GOPROXY))"
}

# gobin_build PACKAGE BIN LDFLAGS: builds next to BIN and renames, so an interrupted build never leaves a
# half-written binary; prints BIN.
gobin_build() {
  local package=$1 bin=$2 ldflags=$3
  mkdir -p "$(dirname "$bin")"
  go build -trimpath -ldflags "$ldflags" -o "$bin.partial" "$package" >&2 || fail "building $package failed (see above)"
  mv "$bin.partial" "$bin"
  echo "$bin"
}
