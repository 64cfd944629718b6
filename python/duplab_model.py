"""duplab's models in PyTorch, with the parameter names of duplab's `model.safetensors`.

    import json, torch
    from safetensors import safe_open
    from safetensors.torch import load_file
    from duplab_model import build

    path = "model.safetensors"
    with safe_open(path, "pt") as f:
        meta = f.metadata()
    model = build(meta)                      # the model kind, input shape and classes it names
    model.load_state_dict(load_file(path), strict=True)
    model.eval()
    logits = model(images)                   # images: N×C×H×W floats in [0, 1]

Inputs are pixels in [0, 1]; each model normalises them with the training set's per-channel mean
and std, which the file carries as the buffers `norm.mean` and `norm.std` (and in its metadata).
Written by `duplab runs export RUN --pytorch DIR`; `python/check_logits.py` checks that PyTorch
and duplab compute the same logits from the same file.
"""

import json

import torch
from torch import nn
import torch.nn.functional as F


class Normalize(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.register_buffer("mean", torch.zeros(channels))
        self.register_buffer("std", torch.ones(channels))

    def forward(self, x):
        return (x - self.mean[None, :, None, None]) / self.std[None, :, None, None]


class Cnn(nn.Module):
    """small-cnn (16, 32, 128) and wide-cnn (32, 64, 256): two 3×3 convs with 2×2 max-pool, a
    hidden layer with dropout 0.5."""

    def __init__(self, channels, height, width, classes, c1, c2, hidden):
        super().__init__()
        self.norm = Normalize(channels)
        self.conv1 = nn.Conv2d(channels, c1, 3, padding=1)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1)
        self.fc1 = nn.Linear(c2 * (height // 4) * (width // 4), hidden)
        self.dropout = nn.Dropout(0.5)
        self.fc2 = nn.Linear(hidden, classes)

    def forward(self, x):
        x = self.norm(x)
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.flatten(1)
        return self.fc2(self.dropout(F.relu(self.fc1(x))))


class Lenet(nn.Module):
    def __init__(self, channels, height, width, classes):
        super().__init__()
        pad = 2 if (height, width) == (28, 28) else 0
        self.norm = Normalize(channels)
        self.conv1 = nn.Conv2d(channels, 6, 5, padding=pad)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, classes)

    def forward(self, x):
        x = self.norm(x)
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.flatten(1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class PreActBlock(nn.Module):
    def __init__(self, i, o, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(i)
        self.conv1 = nn.Conv2d(i, o, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(o)
        self.conv2 = nn.Conv2d(o, o, 3, stride=1, padding=1, bias=False)
        if stride != 1 or i != o:
            self.shortcut = nn.Conv2d(i, o, 1, stride=stride, bias=False)
        else:
            self.shortcut = None

    def forward(self, x):
        out = F.relu(self.bn1(x))
        short = self.shortcut(out) if self.shortcut is not None else x
        out = self.conv1(out)
        out = self.conv2(F.relu(self.bn2(out)))
        return out + short


class PreActResNet18(nn.Module):
    """PreAct-ResNet-18 with a final batch norm (Wong et al. 2020), for 32×32 colour images."""

    def __init__(self, channels, height, width, classes):
        super().__init__()
        self.norm = Normalize(channels)
        self.conv1 = nn.Conv2d(3, 64, 3, padding=1, bias=False)
        blocks, i = [], 64
        for o, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
            blocks += [PreActBlock(i, o, stride), PreActBlock(o, o, 1)]
            i = o
        self.blocks = nn.ModuleList(blocks)
        self.bn = nn.BatchNorm2d(512)
        self.fc = nn.Linear(512, classes)

    def forward(self, x):
        x = self.conv1(self.norm(x))
        for b in self.blocks:
            x = b(x)
        x = F.relu(self.bn(x))
        return self.fc(x.mean(dim=(2, 3)))


def build(meta):
    """The model a file's metadata names, with its input shape and classes."""
    kind = meta["model"]
    c, h, w = json.loads(meta["input"])
    classes = len(json.loads(meta["class_names"]))
    if kind == "small-cnn":
        return Cnn(c, h, w, classes, 16, 32, 128)
    if kind == "wide-cnn":
        return Cnn(c, h, w, classes, 32, 64, 256)
    if kind == "lenet":
        return Lenet(c, h, w, classes)
    if kind == "preact-resnet18":
        return PreActResNet18(c, h, w, classes)
    raise ValueError(f"unknown model kind {kind!r}")
