"""PyTorch's side of `duplab-dev ops`: the same CNN training step taken apart op by op, at the
same shapes (batch 128, 28x28x1), in the peer's layout (channels-last) and allocator setting, with
2 threads: milliseconds a call per op, median (min-max) of the rounds, and its share of the sum.

    VENV/bin/python bench/ops_torch.py [--wide] [--rounds 5] [--threads 2]

Run it beside `duplab-dev ops` in alternating processes (same machine, seconds apart): the two
lists name the same ops, so their quotient points at the kernel that holds the gap. It is not a
ratio of record (the two never take turns within one run, as `duplab-dev peer` does).
"""

import argparse
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_torch import FAST, keep_freed_memory  # noqa: E402

BATCH = 128
CALLS = 5


def ops(c1, c2, hidden):
    """(name, callable) for every op of the step, in `duplab-dev ops`' order."""
    g = torch.Generator().manual_seed(0)

    def t(*shape):
        x = torch.rand(*shape, generator=g) - 0.5
        return x.contiguous(memory_format=FAST) if len(shape) == 4 else x

    out = []
    for layer, (ci, co, side) in enumerate([(1, c1, 28), (c1, c2, 14)], start=1):
        x, w, b = t(BATCH, ci, side, side), t(co, ci, 3, 3), t(co)
        gy = t(BATCH, co, side, side)
        bwd = torch.ops.aten.convolution_backward

        def grads(mask, x=x, w=w, gy=gy):
            return lambda: bwd(gy, x, w, [w.shape[0]], [1, 1], [1, 1], [1, 1], False, [0, 0], 1, mask)

        out.append((f"conv{layer} forward", lambda x=x, w=w, b=b: F.conv2d(x, w, b, padding=1)))
        out.append((f"conv{layer} weight gradient", grads([False, True, False])))
        out.append((f"conv{layer} bias gradient", grads([False, False, True])))
        if layer == 2:
            out.append((f"conv{layer} input gradient", grads([True, False, False])))
        pooled, idx = F.max_pool2d(gy, 2, return_indices=True)
        gp = t(BATCH, co, side // 2, side // 2)
        out.append((f"pool{layer} forward", lambda gy=gy: F.max_pool2d(gy, 2, return_indices=True)))
        out.append((
            f"pool{layer} backward",
            lambda gy=gy, gp=gp, idx=idx: torch.ops.aten.max_pool2d_with_indices_backward(
                gp, gy, [2, 2], [2, 2], [0, 0], [1, 1], False, idx),
        ))
        out.append((f"relu{layer} forward", lambda p=pooled: F.relu(p)))
        out.append((f"relu{layer} backward", lambda p=pooled, gp=gp: torch.ops.aten.threshold_backward(gp, p, 0.0)))
    flat = c2 * 7 * 7
    x, w, b, gy = t(BATCH, flat), t(hidden, flat), t(hidden), t(BATCH, hidden)
    out.append(("fc1 forward", lambda: F.linear(x, w, b)))
    out.append(("fc1 weight gradient", lambda: gy.t() @ x))
    out.append(("fc1 input gradient", lambda: gy @ w))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--wide", action="store_true", help="the wide CNN instead of the small one")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    keep_freed_memory()
    torch.set_num_threads(a.threads)
    c1, c2, hidden, name = (32, 64, 256, "wide CNN") if a.wide else (16, 32, 128, "small CNN")
    table = ops(c1, c2, hidden)
    times = [[] for _ in table]
    with torch.no_grad():
        for r in range(max(a.rounds, 1) + 1):  # round 0 warms up
            for i, (_, op) in enumerate(table):
                t0 = time.perf_counter()
                for _ in range(CALLS):
                    op()
                if r > 0:
                    times[i].append((time.perf_counter() - t0) * 1e3 / CALLS)
    med = [statistics.median(t) for t in times]
    # Asked for alone, a bias gradient is a pass of its own, which PyTorch's training step shares
    # with the weight gradient: it is left out of the sum.
    total = sum(m for (label, _), m in zip(table, med) if "bias" not in label)
    print(f"the {name}'s standard training step op by op in PyTorch {torch.__version__} (channels-last, "
          f"{a.threads} threads), batch {BATCH}, {max(a.rounds, 1)} rounds of {CALLS} calls: "
          "ms a call, median (min-max), share of the sum")
    for (label, _), t, m in zip(table, times, med):
        print(f"  {label:<24} {m:>7.3} ({min(t):.3f}-{max(t):.3f})  {m / total * 100:>5.1f} %")
    print(f"  {'sum':<24} {total:>7.3} ms (bias gradients left out)")


if __name__ == "__main__":
    main()
