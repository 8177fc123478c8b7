#!/usr/bin/env bash
# `make engine`: the Pulumi engine this project runs under, built from the Go module proxy into .tools/.
#
#   .tools/bin/pulumi           a wrapper that runs the CLI offline by default (PULUMI_SKIP_UPDATE_CHECK and
#                               PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION default to true: no update check, no
#                               plugin downloads) ...
#   .tools/libexec/pulumi/      ... the CLI, github.com/pulumi/pulumi/pkg/v3/cmd/pulumi (version: tools/engine/go.mod),
#                               with the plugins it looks for next to itself: pulumi-language-python, OUR minimal
#                               Python language host (tools/engine/cmd/pulumi-language-python; the upstream module is
#                               not served), and the upstream exec shim and dynamic-provider script it runs, copied
#                               from the sdk/v3 module zip
#   .tools/bin/pulumi-resource-random      OUR stand-in for pulumi-random (tools/engine/cmd/pulumi-resource-random)
#   .tools/bin/pulumi-resource-kubernetes the upstream provider, github.com/pulumi/pulumi-kubernetes/provider/v4
#                               (tools/engine/kubernetes, its own module: it needs pulumi pkg/v3 v3.215, not v3.274)
# The CLI finds providers on PATH ("ambient" plugins; it warns "using pulumi-resource-X from $PATH"), so put
# .tools/bin on PATH. AWS and GCP providers are not built: a program that uses them fails offline, by design.
#
# Each tool is cached under ~/.cache/gitpod-cell/bin/<name>-<version>-<hash>/, the hash covering everything its
# build reads (go.mod, go.sum, our sources, flags, Go version), so a clean clone on a warm machine only copies.
# Usage: tools/build-engine.sh [--force]   (--force rebuilds even when the cache has the tool)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ENGINE=$ROOT/tools/engine
BIN=$ROOT/.tools/bin
LIBEXEC=$ROOT/.tools/libexec/pulumi
CACHE=${GITPOD_CELL_CACHE:-$HOME/.cache/gitpod-cell}/bin
FORCE=0
case "${1:-}" in
  "") ;;
  --force) FORCE=1 ;;
  *) echo "build-engine.sh: unknown argument '$1' (accepted: --force)" >&2; exit 2 ;;
esac

command -v go >/dev/null || { echo "build-engine.sh: 'go' is not on PATH; install Go >= 1.26" >&2; exit 1; }
export GOFLAGS="-mod=readonly -buildvcs=false -trimpath" GOTOOLCHAIN=local CGO_ENABLED=0
GO_VERSION=$(go env GOVERSION)
mkdir -p "$BIN" "$LIBEXEC" "$CACHE"
# An earlier layout had the CLI's own plugins in .tools/bin; there the CLI would warn that they come from $PATH.
rm -f "$BIN"/pulumi-language-python "$BIN"/pulumi-language-python-exec "$BIN"/pulumi-resource-pulumi-python

modver() { (cd "$1" && go list -m -f '{{.Version}}' "$2"); }
moddir() { (cd "$1" && go mod download -json "$2" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p'); }
fingerprint() { { echo "$GO_VERSION"; cat "$@"; } | sha256sum | cut -c1-12; }

PULUMI_VERSION=$(modver "$ENGINE" github.com/pulumi/pulumi/pkg/v3)
SDK_VERSION=$(modver "$ENGINE" github.com/pulumi/pulumi/sdk/v3)
K8S_PSEUDO=$(modver "$ENGINE/kubernetes" github.com/pulumi/pulumi-kubernetes/provider/v4)
# What the kubernetes binary reports: upstream's own convention for a build between releases (the next minor's
# alpha, timestamp, commit). The commit is newer than the v4.24.0 release and a day older than v4.25.0.
K8S_COMMIT=${K8S_PSEUDO##*-}
K8S_STAMP=${K8S_PSEUDO%-*}; K8S_STAMP=${K8S_STAMP##*-}
K8S_VERSION="4.25.0-alpha.${K8S_STAMP}+${K8S_COMMIT}"
HOST_VERSION="${PULUMI_VERSION#v}+gitpod-cell.minimal-host"

# install DEST DIR NAME...: copy files from a cache dir (about a second), so that nothing written into .tools
# can reach the cache.
install_from() {
  local dest=$1 dir=$2; shift 2
  for f in "$@"; do rm -f "$dest/$f"; cp "$dir/$f" "$dest/$f"; done
}

# tool DEST NAME VERSION HASH FILES... -- BUILD-COMMAND (run with $OUT set to an empty directory to fill)
tool() {
  local dest=$1 name=$2 version=$3 hash=$4; shift 4
  local files=()
  while [ "$1" != "--" ]; do files+=("$1"); shift; done
  shift
  local dir="$CACHE/$name-$version-$hash"
  if [ "$FORCE" = 0 ] && [ -f "$dir/.complete" ]; then
    install_from "$dest" "$dir" "${files[@]}"
    printf '%-28s %-44s cached   %s\n' "$name" "$version" "$(du -sh "$dir/${files[0]}" | cut -f1)"
    return
  fi
  local out start
  out=$(mktemp -d "$CACHE/.$name.XXXXXX")
  start=$(date +%s)
  if ! OUT=$out "$@"; then
    rm -rf "$out"
    echo "build-engine.sh: building $name $version failed (output above)" >&2
    exit 1
  fi
  touch "$out/.complete"
  rm -rf "$dir"
  mv "$out" "$dir"
  install_from "$dest" "$dir" "${files[@]}"
  printf '%-28s %-44s built in %ss  %s\n' "$name" "$version" "$(($(date +%s) - start))" \
    "$(du -sh "$dir/${files[0]}" | cut -f1)"
}

build_pulumi() {
  (cd "$ENGINE" && go build -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
    -o "$OUT/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
}

build_language_host() {
  local sdk
  sdk=$(moddir "$ENGINE" "github.com/pulumi/pulumi/sdk/v3@$SDK_VERSION")
  (cd "$ENGINE" && go build -ldflags "-s -w -X main.version=$HOST_VERSION" \
    -o "$OUT/pulumi-language-python" ./cmd/pulumi-language-python)
  install -m 0755 "$sdk/python/cmd/pulumi-language-python-exec" "$OUT/pulumi-language-python-exec"
  install -m 0755 "$sdk/python/dist/pulumi-resource-pulumi-python" "$OUT/pulumi-resource-pulumi-python"
}

build_random() {
  (cd "$ENGINE" && go build -ldflags "-s -w" -o "$OUT/pulumi-resource-random" ./cmd/pulumi-resource-random)
}

build_kubernetes() {
  local src gen=$ENGINE/kubernetes/.gen main=$ENGINE/kubernetes/cmd/pulumi-resource-kubernetes
  src=$(moddir "$ENGINE/kubernetes" "github.com/pulumi/pulumi-kubernetes/provider/v4@$K8S_PSEUDO")
  # Upstream's `go generate` step (cmd/pulumi-resource-kubernetes/generate.go) stamps the version into the schema
  # and writes the two files main.go embeds. Run it inside our module so its imports resolve through our go.sum.
  rm -rf "$gen" && mkdir -p "$gen"
  cp "$src/cmd/pulumi-resource-kubernetes/"{generate.go,schema.json,terraform-mapping.json} "$gen/"
  chmod u+w "$gen"/*
  (cd "$gen" && VERSION=$K8S_VERSION go run generate.go)
  mv "$gen/schema-embed.json" "$gen/terraform-mapping-embed.json" "$main/"
  rm -rf "$gen"
  (cd "$ENGINE/kubernetes" && go build \
    -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$K8S_VERSION" \
    -o "$OUT/pulumi-resource-kubernetes" ./cmd/pulumi-resource-kubernetes)
}

sources() { find "$@" -maxdepth 1 -name '*.go' ! -name '*_test.go' | sort; }
SCRIPT_HASH_INPUTS=("$ENGINE/go.mod" "$ENGINE/go.sum")

tool "$LIBEXEC" pulumi "$PULUMI_VERSION" "$(fingerprint "${SCRIPT_HASH_INPUTS[@]}" <(echo "$PULUMI_VERSION"))" \
  pulumi -- build_pulumi
tool "$LIBEXEC" pulumi-language-python "$HOST_VERSION" \
  "$(fingerprint "${SCRIPT_HASH_INPUTS[@]}" $(sources "$ENGINE/cmd/pulumi-language-python") <(echo "$SDK_VERSION"))" \
  pulumi-language-python pulumi-language-python-exec pulumi-resource-pulumi-python -- build_language_host
tool "$BIN" pulumi-resource-random "4.21.4+gitpod-cell.standin" \
  "$(fingerprint "${SCRIPT_HASH_INPUTS[@]}" $(sources "$ENGINE/cmd/pulumi-resource-random"))" \
  pulumi-resource-random -- build_random
tool "$BIN" pulumi-resource-kubernetes "$K8S_VERSION" \
  "$(fingerprint "$ENGINE/kubernetes/go.mod" "$ENGINE/kubernetes/go.sum" \
    "$ENGINE/kubernetes/cmd/pulumi-resource-kubernetes/main.go" <(echo "$K8S_VERSION"))" \
  pulumi-resource-kubernetes -- build_kubernetes

cat > "$BIN/pulumi.tmp" <<'WRAPPER'
#!/bin/sh
# gitpod-cell (written by tools/build-engine.sh): the Pulumi CLI built by `make engine`, offline by default. No
# update check, no plugin downloads: it runs the plugins next to it and the providers on PATH. Set either variable
# to false to change that.
: "${PULUMI_SKIP_UPDATE_CHECK:=true}"
: "${PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION:=true}"
export PULUMI_SKIP_UPDATE_CHECK PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION
exec "$(dirname "$0")/../libexec/pulumi/pulumi" "$@"
WRAPPER
chmod 0755 "$BIN/pulumi.tmp"
mv -f "$BIN/pulumi.tmp" "$BIN/pulumi"
echo "$("$BIN/pulumi" version) in .tools/bin; put it first on PATH: export PATH=\"$BIN:\$PATH\""
