#!/usr/bin/env bash
# Build gemm-profiles under each profile, then run them in turn, ROUNDS rounds (default 2).
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
profiles=(release devlike checks cgu256)
for p in "${profiles[@]}"; do cargo build -q --profile "$p"; done
for r in $(seq 1 "${1:-2}"); do
  for p in "${profiles[@]}"; do
    echo "== round $r, profile $p"
    "$CARGO_TARGET_DIR/$p/gemm-profiles"
  done
done
