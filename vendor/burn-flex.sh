#!/usr/bin/env bash
# The vendored burn-flex is the published crate plus one patch file. This script rebuilds it from
# the release and the patch, so upgrading burn is a rebase of the patch, not a hunt for changes:
#
#   bash vendor/burn-flex.sh check   # apply the patch to a fresh copy of the release; it must equal vendor/burn-flex
#   bash vendor/burn-flex.sh write   # replace vendor/burn-flex with the release + the patch
#   bash vendor/burn-flex.sh diff    # regenerate the patch from vendor/burn-flex (after editing the kernels)
#
# The release is fetched from crates.io (or taken from $BURN_FLEX_CRATE, a downloaded .crate file)
# and checked against its SHA-256 before anything is applied.
set -euo pipefail
cd "$(dirname "$0")"

VERSION=0.22.1
SHA256=7e05d08ef48d738fadf13f8689b634f8b396d5a8cbb27d0a87f61e163d241846
PATCH="burn-flex-$VERSION.patch"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

crate="${BURN_FLEX_CRATE:-$work/burn-flex-$VERSION.crate}"
if [ ! -f "$crate" ]; then
  curl -sSfL -o "$crate" "https://static.crates.io/crates/burn-flex/burn-flex-$VERSION.crate"
fi
echo "$SHA256  $crate" | sha256sum -c --quiet
mkdir -p "$work/a"
tar xzf "$crate" -C "$work/a" --strip-components=1
# Packaging files cargo writes into a published crate; the vendored copy does not carry them.
rm -f "$work/a/Cargo.lock" "$work/a/.cargo_vcs_info.json" "$work/a/Cargo.toml.orig"

case "${1:-check}" in
  check|write)
    cp -r "$work/a" "$work/b"
    (cd "$work/b" && patch -s -p1 < "$OLDPWD/$PATCH")
    if [ "${1:-check}" = write ]; then
      rm -rf burn-flex && cp -r "$work/b" burn-flex
      echo "vendor/burn-flex rebuilt from burn-flex $VERSION + $PATCH"
    elif diff -r "$work/b" burn-flex >/dev/null; then
      echo "ok: vendor/burn-flex is burn-flex $VERSION + $PATCH"
    else
      echo "vendor/burn-flex differs from burn-flex $VERSION + $PATCH:" >&2
      diff -r "$work/b" burn-flex >&2 || true
      exit 1
    fi
    ;;
  diff)
    cp -r burn-flex "$work/b"
    (cd "$work" && diff -ruN a b > "$OLDPWD/$PATCH") || true
    echo "$PATCH regenerated: $(grep -c '^diff ' "$PATCH") files"
    ;;
  *)
    echo "usage: bash vendor/burn-flex.sh [check|write|diff]" >&2
    exit 2
    ;;
esac
