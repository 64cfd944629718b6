#!/usr/bin/env python3
"""Shares of a `perf record` profile by burn-flex function, source line included.

gemm's microkernels have no line tables and rayon workers lose their callers, so `perf report`
shows most of a duplab step as anonymous closures (`call_mut`). This maps each user-space sample
to its inlined call chain with `addr2line -i -f` and files it under the outermost burn-flex
function named in that chain (or its burn-flex file, or the sample's own symbol), e.g.
`pool::max_pool_2x2`.

    perf record -F 999 -e task-clock -o pgd.data \\
        target/debug/duplab bench --models small-cnn --modes pgd10 --repeats 3 --steps 5 --no-epoch --device cpu
    bench/kernel_share.py pgd.data target/debug/duplab [ROWS] [--by-crate]

Prints the share of all samples (kernel-space samples included in the total) per function, or
with `--by-crate` per crate of the innermost source line (`burn-dispatch`, `burn-autodiff`,
`gemm-f32`, `std`, ...): how much of a step is the framework around the kernels.
"""
import collections
import os
import re
import subprocess
import sys


def text_segment(binary):
    """(file offset, virtual address) of the executable LOAD segment."""
    out = subprocess.run(["readelf", "-lW", binary], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        f = line.split()
        if f and f[0] == "LOAD" and "E" in f[-2]:
            return int(f[1], 16), int(f[2], 16)
    sys.exit(f"{binary}: no executable LOAD segment")


# The clone this script lives in: its sources are duplab's own (`src/`, `crates/*/src/`).
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def crate_of(func, where):
    """The crate a sample belongs to: by its source file (`.../burn-autodiff-0.22.1/src/x.rs:3` ->
    burn-autodiff), else by its function's path (`gemm_f32::microkernel::...` -> gemm-f32)."""
    if where.startswith("??") or "-cgu." in where:
        m = re.match(r"[<&]*(?:impl )?([A-Za-z0-9_]+)::", func)
        name = m.group(1).replace("_", "-") if m else "?"
        return "std/core" if name in ("std", "core", "alloc") else name
    if "/vendor/burn-flex/" in where:
        return "burn-flex"
    m = re.search(r"/([A-Za-z0-9_-]+)-\d+\.\d+\.\d+[^/]*/src/", where)
    if m:
        return m.group(1)
    if "/rustc/" in where or "/library/" in where:
        return "std/core"
    if where.startswith(REPO + "/") and "/src/" in where:
        return "duplab"
    return where.split(":")[0].rsplit("/", 1)[-1] or "?"


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    by_crate = "--by-crate" in sys.argv
    args = [a for a in sys.argv[1:] if a != "--by-crate"]
    data, binary = args[0], args[1]
    rows = int(args[2]) if len(args) > 2 else 15
    name = binary.rsplit("/", 1)[-1]
    script = subprocess.run(
        ["perf", "script", "-i", data, "-F", "ip", "--show-mmap-events"],
        capture_output=True, text=True, check=True,
    ).stdout.splitlines()
    mapping = None
    ips = []
    for line in script:
        if "PERF_RECORD_MMAP" in line:
            m = re.search(r"\[(0x[0-9a-f]+)\(0x[0-9a-f]+\) @ (0x[0-9a-f]+) .*r-xp (\S+)", line)
            if m and m.group(3).endswith("/" + name):
                mapping = (int(m.group(1), 16), int(m.group(2), 16))
        elif line.strip():
            ips.append(int(line.split()[0], 16))
    if mapping is None:
        sys.exit(f"{data}: no executable mapping of {name}")
    start, pgoff = mapping
    seg_off, seg_vaddr = text_segment(binary)
    kernel = sum(1 for ip in ips if ip >= 0xFFFF800000000000)
    user = collections.Counter(
        ip - start + pgoff - seg_off + seg_vaddr for ip in ips if ip < 0xFFFF800000000000
    )
    addrs = list(user)
    out = subprocess.run(
        ["addr2line", "-e", binary, "-i", "-f", "-C", "-a"] + [hex(a) for a in addrs],
        capture_output=True, text=True, check=True,
    ).stdout.splitlines()
    chains, cur = {}, None
    for line in out:
        if line.startswith("0x"):
            cur = int(line, 16)
            chains[cur] = []
        else:
            chains[cur].append(line)
    shares = collections.Counter()
    for addr, n in user.items():
        chain = chains.get(addr, [])
        # addr2line -f -i: function, then file:line, innermost first.
        pairs = list(zip(chain[0::2], chain[1::2]))
        # The first burn-flex function named anywhere in the chain (closures name theirs in
        # their type, `burn_flex::ops::pool::max_pool_2x2::{closure_env#1}`), else the burn-flex
        # file of the innermost location, else the sample's own function.
        funcs = [m.group(1) for f, _ in pairs for m in [re.search(r"burn_flex::ops::(\w+::\w+)", f)] if m]
        files = [w.split("burn-flex/src/ops/")[-1].split(":")[0] for _, w in pairs if "burn-flex/src/ops/" in w]
        if by_crate:
            label = crate_of(*pairs[0]) if pairs else "?"
        elif funcs:
            label = funcs[0]
        elif files:
            label = files[0]
        else:
            label = re.sub(r"<.*", "", pairs[0][0]) if pairs else "?"
        shares[label] += n
    total = len(ips)
    print(f"{total} samples, {100 * kernel / total:.1f} % in the kernel")
    for label, n in shares.most_common(rows):
        print(f"{100 * n / total:6.1f} %  {label}")


if __name__ == "__main__":
    main()
