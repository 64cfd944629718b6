"""Which detail of the PyTorch peer costs time: the same training step written several ways,
timed in one process with the variants taking turns (round 1 runs every variant once, round 2
again, ...), so every variant meets the same machine state.

    VENV/bin/python bench/peer_variants.py [--model small-cnn] [--mode pgd10] [--rounds 5]
        [--steps 10] [--threads 2] [--data ../shared/data/fashion-mnist] [--variants a,b,...]

Prints, per variant, images/s: median, min and max over the rounds. The training images are the
first 10,000 of Fashion-MNIST's training file (duplab's embedded set), batch 128, in file order.
`peer-case` is `bench/peer_torch.py` as it is (its `case` command, as duplab drives it). `peer` is
the peer as it was before it took the channels-last layout and fused SGD (the default contiguous
layout, `torch.optim.SGD` unfused); each `peer-*` changes one or two things in it, and `script` is a
plain PyTorch script of the same step (no normalisation layer, data as floats built once, mean
loss, `clamp` projection). Variants whose name holds `compile` run the model through
`torch.compile` (its first steps compile for minutes) and are left out unless named.
"""

import argparse
import gzip
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "python"))
import peer_torch  # noqa: E402
from duplab_model import build  # noqa: E402


def read_idx(path, n):
    raw = gzip.open(path, "rb").read()
    if raw[2] == 8 and raw[3] == 3:
        _, h, w = (int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(3))
        return torch.frombuffer(bytearray(raw[16 : 16 + n * h * w]), dtype=torch.uint8).reshape(n, 1, h, w)
    return torch.frombuffer(bytearray(raw[8 : 8 + n]), dtype=torch.uint8).long()


class Plain(nn.Module):
    """The separate script's model: no normalisation layer."""

    def __init__(self, c1, c2, hidden):
        super().__init__()
        self.conv1 = nn.Conv2d(1, c1, 3, padding=1)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1)
        self.fc1 = nn.Linear(c2 * 7 * 7, hidden)
        self.dropout = nn.Dropout(0.5)
        self.fc2 = nn.Linear(hidden, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc2(self.dropout(F.relu(self.fc1(x.flatten(1)))))


WIDTH = {"small-cnn": (16, 32, 128), "wide-cnn": (32, 64, 256)}


def model_of(name, plain):
    if plain:
        return Plain(*WIDTH[name])
    m = build(peer_torch.meta_of(name, [1, 28, 28]))
    m.norm.mean.fill_(0.3)
    m.norm.std.fill_(0.35)
    return m


def attack(model, x, y, eps, step, steps, reduction, project, frozen=False, forward=None):
    forward = model if forward is None else forward
    model.eval()
    if frozen:
        model.requires_grad_(False)
    adv = (x + torch.empty_like(x).uniform_(-eps, eps)).clamp(0, 1)
    for _ in range(steps):
        adv.requires_grad_(True)
        (g,) = torch.autograd.grad(F.cross_entropy(forward(adv), y, reduction=reduction), adv)
        with torch.no_grad():
            adv = adv + step * g.sign()
            if project == "minmax":
                adv = torch.min(torch.max(adv, x - eps), x + eps).clamp(0, 1)
            else:
                adv = torch.clamp(adv, x - eps, x + eps).clamp_(0, 1)
    if frozen:
        model.requires_grad_(True)
    model.train()
    return adv.detach()


class Variant:
    """One way of writing the step; `opts` say what differs from the peer."""

    def __init__(self, name, model, mode, batch, images, labels, **opts):
        self.name, self.mode, self.batch = name, mode, batch
        self.o = {"plain": False, "float_data": False, "reduction": "sum", "project": "minmax", "wd": 5e-4, "lr": 0.01,
                  "channels_last": False, "fused": False, "frozen": False, "flush": False, "compile": False}
        self.o.update(opts)
        torch.manual_seed(0)
        self.model = model_of(model, self.o["plain"])
        if self.o["channels_last"]:
            self.model = self.model.to(memory_format=torch.channels_last)
        extra = {"fused": True} if self.o["fused"] else {}
        self.opt = torch.optim.SGD(self.model.parameters(), lr=self.o["lr"], momentum=0.9, weight_decay=self.o["wd"], **extra)
        self.forward = torch.compile(self.model) if self.o["compile"] else self.model
        self.images, self.labels = images, labels
        self.float_images = images.float() / 255.0
        self.at = 0

    def steps(self, k):
        n, b = self.images.shape[0], self.batch
        self.model.train()
        if self.o["flush"]:
            torch.set_flush_denormal(True)
        for _ in range(k):
            idx = torch.arange(self.at * b, self.at * b + b) % n
            self.at += 1
            x = self.float_images[idx] if self.o["float_data"] else self.images[idx].float() / 255.0
            y = self.labels[idx]
            if self.o["channels_last"]:
                x = x.contiguous(memory_format=torch.channels_last)
            how = (self.o["reduction"], self.o["project"], self.o["frozen"], self.forward)
            if self.mode == "fgsm-rs":
                x = attack(self.model, x, y, 0.3, 0.375, 1, *how)
            elif self.mode == "pgd10":
                x = attack(self.model, x, y, 0.3, 0.075, 10, *how)
            self.opt.zero_grad(set_to_none=True)
            F.cross_entropy(self.forward(x), y).backward()
            self.opt.step()
        if self.o["flush"]:
            torch.set_flush_denormal(False)


class PeerVariant:
    """bench/peer_torch.py's own `case` command, exactly as duplab drives it."""

    def __init__(self, name, model, mode, batch, images, labels):
        self.name = name
        peer_torch.DATA.update(images=images, labels=labels, shape=list(images.shape))
        self.c = {"model": model, "mode": mode, "batch": batch, "steps": 1, "warmup": 2, "lr": 0.01,
                  "momentum": 0.9, "weight_decay": 5e-4, "eps": 0.3, "step": 0.075 if mode == "pgd10" else 0.375,
                  "attack_steps": 10 if mode == "pgd10" else 1}
        peer_torch.case(self.c)

    def steps(self, k):
        peer_torch.case(dict(self.c, steps=k))


VARIANTS = {
    "peer": {},
    "peer-float-data": {"float_data": True},
    "peer-mean-loss": {"reduction": "mean"},
    "peer-clamp": {"project": "clamp"},
    "peer-no-wd": {"wd": 0.0},
    "peer-no-norm": {"plain": True},
    "peer-channels-last": {"channels_last": True},
    "peer-fused-sgd": {"fused": True},
    "peer-frozen-attack": {"frozen": True},
    "peer-flush-denormal": {"flush": True},
    "peer-channels-last-fused": {"channels_last": True, "fused": True},
    "peer-channels-last-fused-float": {"channels_last": True, "fused": True, "float_data": True},
    "peer-compile": {"compile": True},
    "peer-channels-last-compile": {"channels_last": True, "compile": True},
    "script": {"plain": True, "float_data": True, "reduction": "mean", "project": "clamp", "wd": 0.0, "lr": 0.05},
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="small-cnn")
    ap.add_argument("--mode", default="pgd10")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--glibc-defaults", action="store_true",
                    help="leave glibc's allocator as it is (by default the peer's keep_freed_memory() runs first)")
    ap.add_argument("--data", default=os.path.join(HERE, "..", "..", "shared", "data", "fashion-mnist"))
    ap.add_argument("--variants", default="peer-case," + ",".join(v for v in VARIANTS if "compile" not in v))
    a = ap.parse_args()
    kept = False if a.glibc_defaults else peer_torch.keep_freed_memory()
    torch.set_num_threads(a.threads)
    images = read_idx(os.path.join(a.data, "train-images-idx3-ubyte.gz"), 10000)
    labels = read_idx(os.path.join(a.data, "train-labels-idx1-ubyte.gz"), 10000)
    vs = []
    names = a.variants.split(",")
    if a.model not in WIDTH:
        # The plain model (no normalisation layer) is written for the two CNNs only.
        plain = [n for n in names if n in VARIANTS and VARIANTS[n].get("plain")]
        if plain:
            print(f"{a.model}: no plain model; left out: {', '.join(plain)}", file=sys.stderr)
        names = [n for n in names if n not in plain]
    for name in names:
        if name == "peer-case":
            vs.append(PeerVariant(name, a.model, a.mode, a.batch, images, labels))
        else:
            v = Variant(name, a.model, a.mode, a.batch, images, labels, **VARIANTS[name])
            v.steps(2)  # warm-up, as the peer's case does
            vs.append(v)
    rates = {v.name: [] for v in vs}
    for _ in range(a.rounds):
        for v in vs:
            t = time.perf_counter()
            v.steps(a.steps)
            rates[v.name].append(a.steps * a.batch / (time.perf_counter() - t))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, freed memory kept: {kept}, "
          f"{a.model} {a.mode}, batch {a.batch}, "
          f"{a.rounds} rounds x {a.steps} steps; images/s median (min-max)")
    for name, r in rates.items():
        print(f"{name:18} {statistics.median(r):8.0f}  ({min(r):.0f}-{max(r):.0f})")


if __name__ == "__main__":
    main()
