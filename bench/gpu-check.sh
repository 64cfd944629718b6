#!/bin/bash
# The GPU check, one prepared script of at most ~7 minutes, for a machine with an NVIDIA GPU
# (docs/performance.md, "GPU"): the doctor, duplab's training throughput on the GPU for the three
# CNNs and PreAct-ResNet-18, the default job on the GPU, and PyTorch CUDA on the same card beside it.
#
# Prepare here (once):  cargo build --release && strip -o device-bin/duplab target/release/duplab
#                       (device-bin/ ignored by git; the stripped binary is ~30 MiB)
# Vulkan loader: if the machine has none (`ldconfig -p | grep libvulkan` is empty), put the
# packages libvulkan1 libegl1 libglvnd0 into .gl/ (apt-get download) and carry .gl too.
# Run there, in the repository root:  bash bench/gpu-check.sh   (writes into $OUT or ./gpu-check-out)
set -uo pipefail
OUT="${OUT:-./gpu-check-out}"
mkdir -p "$OUT"
if [ -d .gl ]; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
# The NVIDIA ICD where the container keeps it outside the loader's folders.
if [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ] && [ -z "${VK_DRIVER_FILES:-}" ]; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
B="${DUPLAB:-./device-bin/duplab}"
{
  date -u
  nvidia-smi --query-gpu=name,driver_version,memory.total,pci.bus_id --format=csv || true
  lscpu | grep -E "Model name|^CPU\(s\)" || true
} | tee "$OUT/machine.txt"
timeout 60 "$B" doctor 2>&1 | tee "$OUT/doctor.txt"
timeout 200 "$B" bench --device gpu --models small-cnn,wide-cnn,lenet,preact-resnet18 \
  --modes standard,pgd10 --repeats 5 --steps 10 --no-epoch 2>&1 | tee "$OUT/bench-gpu.txt"
timeout 90 "$B" --runs-dir /tmp/duplab-gpu-runs train --device gpu --plain 2>&1 | tee "$OUT/default-job-gpu.txt"
if python3 -c "import torch; assert torch.cuda.is_available()" 2>/dev/null; then
  timeout 220 python3 bench/gpu_torch.py 2>&1 | tee "$OUT/torch-cuda.txt"
else
  echo "no PyTorch with CUDA here: the PyTorch column is missing" | tee "$OUT/torch-cuda.txt"
fi
