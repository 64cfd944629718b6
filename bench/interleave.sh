#!/usr/bin/env bash
# Before/after throughput of two or more duplab binaries, interleaved so that every side meets the
# same machine: for each model and mode, round 1 runs every binary once, round 2 again (in reverse
# order), and so on (the machine drifts over minutes, so the binaries compared take turns within
# seconds).
# Prints one line per round, binary, model and mode (images/s: median, min, max of the repeats).
#
#   bench/interleave.sh [-r ROUNDS] [-m MODELS] [-o MODES] BINARY... [-- BENCH ARGS...]
#   bench/interleave.sh -r 4 -m small-cnn,lenet -o standard,pgd10 /tmp/duplab-before target/debug/duplab
#
# Keep the "before" binary: a before/after is only reproducible while both binaries exist.
set -euo pipefail
rounds=2
models=small-cnn,wide-cnn,lenet
modes=standard,pgd10
bins=()
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    -r) rounds="$2"; shift 2 ;;
    -m) models="$2"; shift 2 ;;
    -o) modes="$2"; shift 2 ;;
    --) shift; args+=("$@"); break ;;
    *) bins+=("$1"); shift ;;
  esac
done
[ ${#bins[@]} -ge 1 ] || { echo "usage: $0 [-r ROUNDS] [-m MODELS] [-o MODES] BINARY... [-- BENCH ARGS]" >&2; exit 2; }
# Binaries are told apart by their file names in the output: refuse two with the same name.
if [ "$(printf '%s\n' "${bins[@]}" | xargs -n1 basename | sort | uniq -d)" ]; then
  echo "$0: two binaries share a file name; copy them to distinct names (e.g. duplab-before, duplab-after)" >&2
  exit 2
fi
# Defaults when no bench arguments are given (clap refuses a repeated option).
[ ${#args[@]} -gt 0 ] || args=(--repeats 3 --steps 5)
for model in ${models//,/ }; do
  for mode in ${modes//,/ }; do
    for r in $(seq 1 "$rounds"); do
      # Even rounds run the binaries in reverse order: whichever runs first in a round meets the
      # machine as the one before left it (measured at up to 1.10x by duplab-dev dispatch).
      order=("${bins[@]}")
      if [ $((r % 2)) = 0 ]; then
        order=()
        for ((i = ${#bins[@]} - 1; i >= 0; i--)); do order+=("${bins[$i]}"); done
      fi
      for b in "${order[@]}"; do
        "$b" bench --device cpu --no-epoch --no-color --models "$model" --modes "$mode" "${args[@]}" \
          | awk -v r="$r" -v b="$(basename "$b")" '$1 == "flex" { printf "round %s  %-22s %-12s %-9s %8s %8s %8s\n", r, b, $2, $3, $4, $5, $6 }'
      done
    done
  done
done
