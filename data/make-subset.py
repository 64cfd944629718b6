#!/usr/bin/env python3
"""Cut the embedded default data set from the official Fashion-MNIST files.

Rule: the first 1,000 train images and the first 200 test images of each class, in file order.
`duplab data make-subset --data-dir DIR --out data/fashion-mnist-mini` does the same in Rust, and
the test `embedded_equals_a_fresh_cut_of_the_real_files` checks the result against the real files.

usage: python3 data/make-subset.py ../shared/data/fashion-mnist data/fashion-mnist-mini
"""
import gzip, struct, sys, os

src, out = sys.argv[1], sys.argv[2]
for prefix, per_class in (("train", 1000), ("t10k", 200)):
    img = gzip.open(os.path.join(src, f"{prefix}-images-idx3-ubyte.gz")).read()
    lab = gzip.open(os.path.join(src, f"{prefix}-labels-idx1-ubyte.gz")).read()
    n, h, w = struct.unpack(">III", img[4:16])
    taken, keep = [0] * 10, []
    for i in range(n):
        c = lab[8 + i]
        if taken[c] < per_class:
            taken[c] += 1
            keep.append(i)
    size = h * w
    images = b"".join(img[16 + i * size:16 + (i + 1) * size] for i in keep)
    labels = bytes(lab[8 + i] for i in keep)
    with gzip.GzipFile(os.path.join(out, f"{prefix}-images-idx3-ubyte.gz"), "wb", 9, mtime=0) as f:
        f.write(struct.pack(">IIII", 0x803, len(keep), h, w) + images)
    with gzip.GzipFile(os.path.join(out, f"{prefix}-labels-idx1-ubyte.gz"), "wb", 9, mtime=0) as f:
        f.write(struct.pack(">II", 0x801, len(keep)) + labels)
