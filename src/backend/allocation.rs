//! Which GPU a scheduler gave this process, as a PCI bus id wgpu can be matched against.
//!
//! Slurm's `--gres=gpu` hands a task its GPU through `CUDA_VISIBLE_DEVICES` (an index, or a
//! `GPU-…` UUID), which CUDA follows and Vulkan does not: every task of an array would open the
//! first card. `nvidia-smi` maps the index or UUID to the card's PCI bus id, which the Vulkan
//! driver reports for its adapters too.

use std::process::Command;

/// The PCI bus id of the first GPU in `visible` (`CUDA_VISIBLE_DEVICES`), looked up in the
/// output of `nvidia-smi --query-gpu=index,uuid,pci.bus_id --format=csv,noheader`.
pub fn bus_of_visible(visible: &str, smi_csv: &str) -> Option<String> {
    let first = visible.split(',').next()?.trim();
    if first.is_empty() {
        return None;
    }
    smi_csv.lines().find_map(|line| {
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let [index, uuid, bus] = f[..] else {
            return None;
        };
        (index == first || uuid.eq_ignore_ascii_case(first)).then(|| bus.to_string())
    })
}

/// The PCI bus id of the GPU this process was allocated, where a scheduler set
/// `CUDA_VISIBLE_DEVICES` and `nvidia-smi` can name it; `None` otherwise.
pub fn allocated_bus_id() -> Option<String> {
    let visible = std::env::var("CUDA_VISIBLE_DEVICES").ok()?;
    let out = Command::new("nvidia-smi")
        .args(["--query-gpu=index,uuid,pci.bus_id", "--format=csv,noheader"])
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    bus_of_visible(&visible, &String::from_utf8_lossy(&out.stdout))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMI: &str = "0, GPU-aaaa-0001, 00000000:18:00.0\n1, GPU-aaaa-0002, 00000000:2A:00.0\n2, GPU-aaaa-0003, 00000000:3B:00.0\n";

    #[test]
    fn the_visible_gpu_is_found_by_index_or_uuid() {
        assert_eq!(
            bus_of_visible("2", SMI).as_deref(),
            Some("00000000:3B:00.0")
        );
        assert_eq!(
            bus_of_visible("1,2", SMI).as_deref(),
            Some("00000000:2A:00.0")
        );
        assert_eq!(
            bus_of_visible("gpu-aaaa-0001", SMI).as_deref(),
            Some("00000000:18:00.0")
        );
        assert_eq!(bus_of_visible("7", SMI), None);
        assert_eq!(bus_of_visible("", SMI), None);
        assert_eq!(bus_of_visible("0", "garbage line\n"), None);
    }
}
