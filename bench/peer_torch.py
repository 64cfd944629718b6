"""duplab's benchmark peer: the same training steps in PyTorch, driven by `duplab-dev peer` (and `duplab-dev job --with-peer`).

One long-lived process. duplab writes one JSON object a line on stdin and reads one back on
stdout:
  {"cmd": "hello", "threads": 2}                         -> {"torch": "2.x", "threads": 2}
  {"cmd": "data", "images": PATH, "labels": PATH, "shape": [N, C, H, W]}   (raw u8 files) -> {"ok": true}
  {"cmd": "case", "model": "small-cnn", "mode": "pgd10", "batch": 128, "steps": 10,
   "warmup": 2, "lr": 0.05, "momentum": 0.9, "weight_decay": 5e-4,
   "eps": 0.3, "step": 0.075, "attack_steps": 10}       -> {"rate": images/s, "params": N}
  {"cmd": "test", "images": PATH, "labels": PATH, "shape": [N, C, H, W]}   (the test split) -> {"ok": true}
  {"cmd": "job", "model": "small-cnn", "epochs": 5, "batch": 128, "lr": 0.05, "momentum": 0.9,
   "weight_decay": 5e-4, "mean": [..], "std": [..], "eval_eps": 0.1, "eval_step": 0.025,
   "eval_steps": 10, "eval_limit": 500, "seed": 0}
      -> {"seconds": wall time, "steps": N, "clean": final test accuracy, "robust": PGD accuracy}
A job is duplab's default job written in PyTorch: shuffled epochs, SGD with momentum and weight
decay under the one-cycle schedule (duplab's `lr_at`), a test evaluation after every epoch and PGD
on the first `eval_limit` test images at the end.
A case builds its model once (duplab_model.py, the same modules as duplab's weights files) and
keeps it, so repeats interleaved with duplab's continue where the last one stopped, as duplab's
do. Training mirrors duplab's step: for FGSM-RS and PGD the batch is replaced by its adversarial
version, found with dropout off (eval mode) from a uniform random start, the input gradient of the
summed cross-entropy, sign steps, projection onto the ε-ball and [0, 1]; then one SGD step.

Written as fast as eager float32 PyTorch runs this step on a CPU (measured variant by variant with
`bench/peer_variants.py`, see docs/performance.md): the model's weights and every batch in the
channels-last memory format (oneDNN's native layout; 1.17–1.47× on these models over the default
contiguous layout) and PyTorch's fused SGD (the same update, one kernel; no measurable
difference). `torch.compile` is not
used: it is a column of its own in peer_variants.py. Like duplab (src/backend/memory.rs), the
peer keeps freed buffers in the heap (glibc's mmap and trim thresholds raised at start): with
glibc's defaults PyTorch, too, faults its activations back in every step; measured in
alternating processes the setting gives it 1.14–1.43× on the CNNs, and on LeNet-5 0.92–0.98× for
the standard step and 1.02× for PGD-10.
"""

import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from duplab_model import build  # noqa: E402

DATA = {}
CASES = {}


def params_of(model):
    """Trainable parameters plus batch-norm running statistics: what burn's num_params counts."""
    n = sum(p.numel() for p in model.parameters())
    for name, b in model.named_buffers():
        if name.endswith("running_mean") or name.endswith("running_var"):
            n += b.numel()
    return n


FAST = torch.channels_last


def keep_freed_memory():
    """duplab's allocator setting (src/backend/memory.rs), so that neither side pays page faults
    the other does not: buffers up to 256 MB from the heap (32 MB where an older glibc refuses
    more), 1 GB kept free before trimming, 64 MB of padding whenever the heap grows. As in
    duplab, a malloc setting in the environment wins, and each parameter is set on its own.
    glibc only; elsewhere nothing changes. True if all three were set."""
    import ctypes
    import ctypes.util

    if any((k == "GLIBC_TUNABLES" and "malloc" in v) or (k.startswith("MALLOC_") and k.endswith("_")) for k, v in os.environ.items()):
        return False
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3
    mmap = mallopt(m_mmap_threshold, 256 << 20) == 1 or mallopt(m_mmap_threshold, 32 << 20) == 1
    trim = mallopt(m_trim_threshold, 1 << 30) == 1
    pad = mallopt(m_top_pad, 64 << 20) == 1
    return mmap and trim and pad


def meta_of(model, shape):
    """The metadata duplab's weights file carries, for `build`: model kind, input shape, 10 classes."""
    return {"model": model, "input": json.dumps(list(shape)), "class_names": json.dumps([str(i) for i in range(10)])}


def pixels(images_u8):
    """A batch of u8 images as floats in [0, 1], in the layout the model is fastest with."""
    return (images_u8.float() / 255.0).contiguous(memory_format=FAST)


def model_and_optimiser(meta, lr, momentum, weight_decay, device="cpu", layout=FAST):
    """The model in `layout` on `device` and PyTorch's fastest SGD of the same update (fused)."""
    model = build(meta).to(device).to(memory_format=layout)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay, fused=True)
    return model, opt


def adversarial(model, x, y, eps, step, steps):
    model.eval()
    adv = (x + torch.empty_like(x).uniform_(-eps, eps)).clamp(0, 1)
    for _ in range(steps):
        adv.requires_grad_(True)
        loss = F.cross_entropy(model(adv), y, reduction="sum")
        (g,) = torch.autograd.grad(loss, adv)
        with torch.no_grad():
            adv = adv + step * g.sign()
            adv = torch.min(torch.max(adv, x - eps), x + eps).clamp(0, 1)
    model.train()
    return adv.detach()


def case(c):
    key = (c["model"], c["mode"], c["batch"])
    if key not in CASES:
        n, ch, h, w = DATA["shape"]
        meta = meta_of(c["model"], [ch, h, w])
        model, opt = model_and_optimiser(meta, c["lr"], c["momentum"], c["weight_decay"])
        model.norm.mean.fill_(0.3)
        model.norm.std.fill_(0.35)
        CASES[key] = {"model": model, "opt": opt, "batch": 0}
        state = CASES[key]
        run(state, c, c.get("warmup", 2))
    state = CASES[key]
    t0 = time.perf_counter()
    run(state, c, c["steps"])
    secs = time.perf_counter() - t0
    return {"rate": c["steps"] * c["batch"] / secs, "params": params_of(state["model"])}


def run(state, c, steps):
    model, opt = state["model"], state["opt"]
    images, labels = DATA["images"], DATA["labels"]
    n, b = images.shape[0], c["batch"]
    model.train()
    for _ in range(steps):
        idx = torch.arange(state["batch"] * b, state["batch"] * b + b) % n
        state["batch"] += 1
        x = pixels(images[idx])
        y = labels[idx]
        if c["mode"] == "fgsm-rs":
            x = adversarial(model, x, y, c["eps"], c["step"], 1)
        elif c["mode"] == "pgd10":
            x = adversarial(model, x, y, c["eps"], c["step"], c["attack_steps"])
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    loss.item()


def one_cycle(step, total, lr):
    t = step / max(total, 1)
    return lr * (0.1 + 0.9 * t / 0.3) if t < 0.3 else lr * (1.0 - t) / 0.7


def accuracy(model, images, labels, batch=500):
    model.eval()
    right = 0
    with torch.no_grad():
        for i in range(0, images.shape[0], batch):
            x = pixels(images[i : i + batch])
            right += (model(x).argmax(1) == labels[i : i + batch]).sum().item()
    model.train()
    return right / images.shape[0]


def robust_accuracy(model, images, labels, eps, step, steps, batch=500):
    right = 0
    for i in range(0, images.shape[0], batch):
        x = pixels(images[i : i + batch])
        y = labels[i : i + batch]
        adv = adversarial(model, x, y, eps, step, steps)
        model.eval()
        with torch.no_grad():
            right += (model(adv).argmax(1) == y).sum().item()
    model.train()
    return right / images.shape[0]


def job(c):
    torch.manual_seed(c.get("seed", 0))
    t0 = time.perf_counter()
    n, ch, h, w = DATA["shape"]
    meta = meta_of(c["model"], [ch, h, w])
    model, opt = model_and_optimiser(meta, c["lr"], c["momentum"], c["weight_decay"])
    with torch.no_grad():
        model.norm.mean.copy_(torch.tensor(c["mean"]).reshape(model.norm.mean.shape))
        model.norm.std.copy_(torch.tensor(c["std"]).reshape(model.norm.std.shape))
    images, labels = DATA["images"], DATA["labels"]
    b = c["batch"]
    per_epoch = (n + b - 1) // b
    total = per_epoch * c["epochs"]
    step = 0
    clean = 0.0
    split = {"prepare_s": time.perf_counter() - t0, "steps_s": 0.0, "test_s": 0.0}
    model.train()
    for _ in range(c["epochs"]):
        t = time.perf_counter()
        order = torch.randperm(n)
        for i in range(per_epoch):
            idx = order[i * b : (i + 1) * b]
            for g in opt.param_groups:
                g["lr"] = one_cycle(step, total, c["lr"])
            x = pixels(images[idx])
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(x), labels[idx]).backward()
            opt.step()
            step += 1
        split["steps_s"] += time.perf_counter() - t
        t = time.perf_counter()
        clean = accuracy(model, DATA["test_images"], DATA["test_labels"])
        split["test_s"] += time.perf_counter() - t
    k = c["eval_limit"]
    t = time.perf_counter()
    robust = robust_accuracy(model, DATA["test_images"][:k], DATA["test_labels"][:k], c["eval_eps"], c["eval_step"], c["eval_steps"])
    split["robust_s"] = time.perf_counter() - t
    return {"seconds": time.perf_counter() - t0, "steps": step, "clean": clean, "robust": robust, "split": split}


def read_split(c):
    n, ch, h, w = c["shape"]
    raw = open(c["images"], "rb").read()
    images = torch.frombuffer(bytearray(raw), dtype=torch.uint8).reshape(n, ch, h, w)
    lab = open(c["labels"], "rb").read()
    return images, torch.frombuffer(bytearray(lab), dtype=torch.uint8).long()


def main():
    keep_freed_memory()
    for line in sys.stdin:
        c = json.loads(line)
        if c["cmd"] == "hello":
            torch.set_num_threads(int(c["threads"]))
            out = {"torch": torch.__version__, "threads": torch.get_num_threads()}
        elif c["cmd"] == "data":
            DATA["images"], DATA["labels"] = read_split(c)
            DATA["shape"] = c["shape"]
            out = {"ok": True}
        elif c["cmd"] == "test":
            DATA["test_images"], DATA["test_labels"] = read_split(c)
            out = {"ok": True}
        elif c["cmd"] == "job":
            out = job(c)
        elif c["cmd"] == "case":
            out = case(c)
        else:
            out = {"error": f"unknown command {c['cmd']}"}
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
