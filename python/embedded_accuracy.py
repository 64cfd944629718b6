"""Accuracy of an exported duplab model, in PyTorch, on the embedded Fashion-MNIST test subset.

    duplab runs export RUN --pytorch DIR
    python python/embedded_accuracy.py DIR

It should equal the run's clean accuracy in `duplab runs show RUN` (same weights, same images).
"""

import gzip
import os
import sys

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data", "fashion-mnist-mini")


def idx(name, offset):
    return np.frombuffer(gzip.open(os.path.join(DATA, name)).read()[offset:], np.uint8)


def main(d):
    sys.path.insert(0, d)
    from duplab_model import build

    x = idx("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28)
    y = idx("t10k-labels-idx1-ubyte.gz", 8)
    weights = os.path.join(d, "model.safetensors")
    with safe_open(weights, "pt") as f:
        meta = f.metadata()
    model = build(meta)
    model.load_state_dict(load_file(weights), strict=True)
    model.eval()
    with torch.no_grad():
        pred = model(torch.tensor(x, dtype=torch.float32) / 255).argmax(1).numpy()
    print(f"{meta['model']} ({meta['preset']}): {100 * (pred == y).mean():.2f}% of {len(y)} test images")


if __name__ == "__main__":
    main(sys.argv[1])
