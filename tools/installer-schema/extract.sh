#!/usr/bin/env bash
# Regenerate tests/data/installer-schema/<revision>.json from a bare mirror of gitpod-io/gitpod:
#   tools/installer-schema/extract.sh /path/to/gitpod.git release-2022.11.2.16=release-2022.11.2 \
#     release-2022.11.3=2022.11.3 main-gha.13463=main-gha.13463
# Each argument is <schema name>=<git revision>. Only the config v1 Go files are read (git show), parsed with
# go/parser by main.go and defaults.go; nothing of Gitpod's is built or run.
set -euo pipefail
mirror=$1; shift
here=$(cd "$(dirname "$0")" && pwd)
out="$here/../../tests/data/installer-schema"
mkdir -p "$out"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
(cd "$here" && go build -o "$work/installer-schema" .)
for spec in "$@"; do
  name=${spec%%=*}; revision=${spec#*=}
  commit=$(git -C "$mirror" rev-parse "$revision^{commit}")
  base=install/installer/pkg/config/v1
  git -C "$mirror" show "$commit:$base/config.go" > "$work/config.go"
  git -C "$mirror" show "$commit:$base/experimental/experimental.go" > "$work/experimental.go"
  "$work/installer-schema" -revision "$revision" -commit "$commit" "$work/config.go" "$work/experimental.go" \
    > "$out/$name.json"
  echo "$out/$name.json  <- $revision ($commit)"
done
