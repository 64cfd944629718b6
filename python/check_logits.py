"""Check that PyTorch loads duplab's weights as they are and computes duplab's logits.

    cargo test write_pytorch_fixtures -- --ignored    # with DUPLAB_FIXTURE_OUT=DIR
    python python/check_logits.py DIR tests/fixtures/pytorch/logits.json

For every model kind DIR/<kind>/ holds model.safetensors (written by duplab), images.safetensors
(the inputs) and duplab_logits.json (duplab's own logits). The script builds the module from
duplab_model.py, loads the weights with strict=True, computes the logits in eval mode, compares
them with duplab's, and writes PyTorch's logits to the output file, which a duplab test compares
with its forward pass where PyTorch is not installed.
"""

import json
import os
import sys

import torch
from safetensors import safe_open
from safetensors.torch import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from duplab_model import build  # noqa: E402


def main(src, out):
    result = {"torch": torch.__version__, "tolerance": "1e-4 + 1e-3 × |logit|"}
    worst = 0.0
    for kind in sorted(os.listdir(src)):
        d = os.path.join(src, kind)
        weights = os.path.join(d, "model.safetensors")
        with safe_open(weights, "pt") as f:
            meta = f.metadata()
        model = build(meta)
        model.load_state_dict(load_file(weights), strict=True)
        model.eval()
        images = load_file(os.path.join(d, "images.safetensors"))["images"]
        with torch.no_grad():
            logits = model(images)
        ours = torch.tensor(json.load(open(os.path.join(d, "duplab_logits.json")))).reshape(logits.shape)
        diff = (logits - ours).abs().max().item()
        worst = max(worst, diff)
        print(f"{kind:16} {tuple(logits.shape)}  max |PyTorch − duplab| = {diff:.2e}")
        result[kind] = {"logits": logits.tolist(), "max_abs_diff_vs_duplab": diff}
    with open(out, "w") as f:
        json.dump(result, f, indent=1)
    ok = worst <= 1e-3
    print("same logits" if ok else "LOGITS DIFFER")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
