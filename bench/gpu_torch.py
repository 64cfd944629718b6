"""PyTorch CUDA beside `duplab bench --device gpu` (bench/gpu-check.sh): the same models
(python/duplab_model.py), the same step (standard, or PGD-10 with the model in eval mode for the
attack, then one SGD step with momentum and weight decay), synthetic inputs of the bench's shapes
(28×28 grey for the CNNs and LeNet, 32×32 colour for PreAct-ResNet-18), batch 128, eager float32,
the median of 5 repeats of 10 steps after 3 warm-up steps, in both memory layouts (PyTorch's
default and channels-last, which is 1.2–1.5× faster on the CPU: docs/performance.md; the faster
one is PyTorch at its best). Prints one line a case: model, mode, layout, images/s.

    python bench/gpu_torch.py [DEVICE [MODEL,...]]     # DEVICE cuda (default), or cpu to try it
"""

import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_torch import adversarial, meta_of, model_and_optimiser  # noqa: E402


def main():
    dev = torch.device(sys.argv[1] if len(sys.argv) > 1 else "cuda")
    models = sys.argv[2].split(",") if len(sys.argv) > 2 else ["small-cnn", "wide-cnn", "lenet", "preact-resnet18"]
    name = torch.cuda.get_device_name(0) if dev.type == "cuda" else "the CPU"
    print(f"torch {torch.__version__} on {name}", flush=True)
    for model_name, mode, layout in [(m, o, f) for m in models for o in ["standard", "pgd10"] for f in ["contiguous", "channels-last"]]:
        shape = (3, 32, 32) if model_name == "preact-resnet18" else (1, 28, 28)
        fmt = torch.channels_last if layout == "channels-last" else torch.contiguous_format
        torch.manual_seed(0)
        model, opt = model_and_optimiser(meta_of(model_name, shape), 0.01, 0.9, 5e-4, dev, fmt)
        x_all = torch.rand(1024, *shape, device=dev).contiguous(memory_format=fmt)
        y_all = torch.randint(0, 10, (1024,), device=dev)
        eps, step = (8 / 255, 2 / 255) if shape[0] == 3 else (0.3, 0.075)

        def steps(k, state=[0]):
            for _ in range(k):
                idx = torch.arange(state[0] * 128, state[0] * 128 + 128, device=dev) % 1024
                state[0] += 1
                x, y = x_all[idx].contiguous(memory_format=fmt), y_all[idx]
                if mode == "pgd10":
                    x = adversarial(model, x, y, eps, step, 10)
                opt.zero_grad(set_to_none=True)
                F.cross_entropy(model(x), y).backward()
                opt.step()
            if dev.type == "cuda":
                torch.cuda.synchronize()

        steps(3)
        rates = []
        for _ in range(5):
            t0 = time.perf_counter()
            steps(10)
            rates.append(10 * 128 / (time.perf_counter() - t0))
        print(f"{model_name:<16} {mode:<9} {layout:<14} {statistics.median(rates):>10.0f} images/s  (min {min(rates):.0f}, max {max(rates):.0f})", flush=True)


if __name__ == "__main__":
    main()
