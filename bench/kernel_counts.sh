#!/usr/bin/env bash
# Kernel-side events per training step, duplab beside the PyTorch peer: context switches, CPU
# migrations, page faults, mmap/munmap/madvise/futex calls and TLB flushes, counted by `perf stat`
# (software events and tracepoints: they work where the machine exposes no hardware counters).
# Each side runs twice, with S and 3·S timed steps; the difference divided by 2·S is the cost of one
# step without the start-up (loading, model building, warm-up). A count near zero can come out
# slightly negative: the two runs' start-ups differ a little; read it as "within noise".
# The PyTorch side is bench/peer_torch.py as it is (it keeps freed memory, as duplab does); pass
# PEER_ARGS=--glibc-defaults to count it with glibc's defaults.
#
#   bench/kernel_counts.sh [-m MODEL] [-o MODE] [-s STEPS] DUPLAB_BINARY [PYTHON]
#   bench/kernel_counts.sh -m wide-cnn -o pgd10 target/debug/duplab ~/torch/bin/python
#
# Needs perf (Debian's linux-perf) and, for the tracepoints, root or perf_event_paranoid ≤ -1.
set -euo pipefail
model=wide-cnn
mode=pgd10
steps=4
while getopts m:o:s: o; do
  case $o in
    m) model=$OPTARG ;;
    o) mode=$OPTARG ;;
    s) steps=$OPTARG ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { echo "usage: $0 [-m MODEL] [-o MODE] [-s STEPS] DUPLAB_BINARY [PYTHON]" >&2; exit 2; }
bin=$1
python=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
events=task-clock,context-switches,cpu-migrations,page-faults,syscalls:sys_enter_mmap,syscalls:sys_enter_munmap,syscalls:sys_enter_brk,syscalls:sys_enter_madvise,syscalls:sys_enter_futex,tlb:tlb_flush

# perf stat -x, writes value,unit,event,... to its own file (not mixed with the program's
# output): one "event value" line per event. A missing count is an error, not a dropped row.
count() {
  local out
  out=$(mktemp)
  # perf stat exits with the program's status: a program that failed counted nothing useful.
  if ! perf stat -x, -o "$out" -e "$events" -- "$@" >/dev/null 2>&1; then
    echo "$* failed (run it alone to see why)" >&2
    rm -f "$out"
    exit 1
  fi
  awk -F, '$3 != "" && $1 ~ /^[0-9.]+$/ { print $3, $1 }' "$out"
  rm -f "$out"
}

per_step() { # label, then the command with @STEPS@ for the step count
  local label=$1
  shift
  local a b
  a=$(count "${@//@STEPS@/$steps}")
  b=$(count "${@//@STEPS@/$((3 * steps))}")
  local want
  want=$(tr ',' '\n' <<<"$events" | wc -l)
  if [ "$(wc -l <<<"$a")" -ne "$want" ] || [ "$(wc -l <<<"$b")" -ne "$want" ]; then
    echo "$label: perf counted $(wc -l <<<"$a") and $(wc -l <<<"$b") of $want events (root, or perf_event_paranoid <= -1, is needed for the tracepoints)" >&2
    exit 1
  fi
  join <(sort <<<"$a") <(sort <<<"$b") | awk -v l="$label" -v s=$((2 * steps)) \
    '{ printf "%-8s %-32s %12.1f\n", l, $1, ($3 - $2) / s }'
}

echo "# $(basename "$bin"), $model $mode, batch 128: events per training step (runs of $steps and $((3 * steps)) steps, difference / $((2 * steps)))"
per_step duplab "$bin" bench --device cpu --no-epoch --no-color --models "$model" --modes "$mode" --repeats 1 --steps @STEPS@
if [ -n "$python" ]; then
  per_step pytorch "$python" "$here/peer_variants.py" --model "$model" --mode "$mode" --rounds 1 --steps @STEPS@ --variants peer-case ${PEER_ARGS:-}
fi
