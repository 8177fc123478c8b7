#!/usr/bin/env bash
# Builds kube-apiserver, etcd and kubectl from tools/kube, and yq from tools/yq (Go module proxy), once per
# machine, into
#   ~/.cache/gitpod-cell/bin/kube-<k8s version>-<hash of tools/kube/{go.mod,go.sum,**/*.go}>/
#   ~/.cache/gitpod-cell/bin/yq-<yq version>-<hash of tools/yq/{go.mod,go.sum,**/*.go}>/
# and links (or copies) them into .tools/bin/. Same key again: only the link step (seconds).
# GOFLAGS, GOTOOLCHAIN, GOPROXY etc. are taken from the environment as set.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
module="$repo/tools/kube"
binaries=(kube-apiserver etcd kubectl)
started=$SECONDS

# yq (the toolbox's YAML processor, for the tests of the scripts the installer Job and maintenance keeper run).
yq_module="$repo/tools/yq"
yq_version="$(awk '$1 == "require" && $2 == "github.com/mikefarah/yq/v4" {print $3; exit}' "$yq_module/go.mod")"
yq_key="$(cd "$yq_module" && { echo go.mod; echo go.sum; find . -name '*.go' | sort; } \
  | xargs sha256sum | sha256sum | cut -c1-12)"
yq_cache="${XDG_CACHE_HOME:-$HOME/.cache}/gitpod-cell/bin/yq-$yq_version-$yq_key"
if [ ! -f "$yq_cache/.complete" ]; then
  command -v go >/dev/null || { echo "build-kube: no 'go' on PATH; install Go 1.24 or newer" >&2; exit 1; }
  mkdir -p "$(dirname "$yq_cache")"  # a fresh machine has no cache directory yet
  yq_staging="$(mktemp -d "${yq_cache}.tmp.XXXXXX")"
  (cd "$yq_module" && go build -trimpath -ldflags="-s -w" -o "$yq_staging/yq" github.com/mikefarah/yq/v4)
  touch "$yq_staging/.complete"
  [ -f "$yq_cache/.complete" ] || rm -rf "$yq_cache"
  mv -T "$yq_staging" "$yq_cache" 2>/dev/null || [ -f "$yq_cache/.complete" ] || {
    echo "build-kube: could not move the yq build into $yq_cache" >&2; exit 1; }
fi
mkdir -p "$repo/.tools/bin"
ln -f "$yq_cache/yq" "$repo/.tools/bin/yq" 2>/dev/null || cp -f "$yq_cache/yq" "$repo/.tools/bin/yq"

kube_version="$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ {print $2; exit}' "$module/go.mod")"
if [ -z "$kube_version" ]; then
  echo "build-kube: tools/kube/go.mod requires no k8s.io/kubernetes version; restore it from git" >&2
  exit 1
fi
key="$(cd "$module" && { echo go.mod; echo go.sum; find . -name '*.go' | sort; } \
  | xargs sha256sum | sha256sum | cut -c1-12)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/gitpod-cell/bin/kube-$kube_version-$key"
out="$repo/.tools/bin"

if [ -f "$cache/.complete" ]; then
  action="reused $cache"
else
  command -v go >/dev/null || { echo "build-kube: no 'go' on PATH; install Go 1.24 or newer" >&2; exit 1; }
  echo "build-kube: building ${binaries[*]} ($kube_version) into $cache; a cold build takes tens of minutes" >&2
  mkdir -p "$(dirname "$cache")"
  staging="$(mktemp -d "${cache}.tmp.XXXXXX")"
  trap 'rm -rf "$staging"' EXIT
  # Upstream stamps the version with -X; without it the server reports v0.0.0-master to clients.
  minor="${kube_version#v1.}"; minor="${minor%%.*}"
  stamp=""
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    stamp+=" -X $pkg.gitVersion=$kube_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    stamp+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  (cd "$module" && go build -trimpath -ldflags="-s -w$stamp" -o "$staging/" \
    ./cmd/kube-apiserver ./cmd/etcd ./cmd/kubectl)
  chmod 755 "$staging"
  touch "$staging/.complete"
  [ -f "$cache/.complete" ] || rm -rf "$cache"
  # Another build of the same key (another clone) may have finished first: then keep that one.
  mv -T "$staging" "$cache" 2>/dev/null || [ -f "$cache/.complete" ] || {
    echo "build-kube: could not move the build into $cache" >&2; exit 1; }
  action="built $cache"
fi

mkdir -p "$out"
for binary in "${binaries[@]}"; do
  ln -f "$cache/$binary" "$out/$binary" 2>/dev/null || cp -f "$cache/$binary" "$out/$binary"
done
echo "build-kube: $action; ${binaries[*]} and yq $yq_version in .tools/bin ($((SECONDS - started)) s)"
