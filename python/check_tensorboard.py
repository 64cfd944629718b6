"""Read duplab's TensorBoard event file with TensorBoard's own reader and record what it read.

    cargo test write_tensorboard_fixture -- --ignored
    python python/check_tensorboard.py tests/fixtures/tensorboard

Writes read_by_tensorboard.json beside the event file: every scalar tag with its (step, value)
points, as TensorBoard's EventAccumulator returns them. A duplab test checks that its writer still
produces the committed file byte for byte and that these are the run's scalars.
"""

import json
import os
import sys

import tensorboard
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def main(d):
    acc = EventAccumulator(d, size_guidance={"scalars": 0})
    acc.Reload()
    tags = acc.Tags()["scalars"]
    out = {
        "tensorboard": tensorboard.__version__,
        "scalars": {t: [[e.step, e.value] for e in acc.Scalars(t)] for t in sorted(tags)},
    }
    n = sum(len(v) for v in out["scalars"].values())
    with open(os.path.join(d, "read_by_tensorboard.json"), "w") as f:
        json.dump(out, f, indent=0, ensure_ascii=False)
    print(f"TensorBoard {tensorboard.__version__} read {len(tags)} tags, {n} points")


if __name__ == "__main__":
    main(sys.argv[1])
