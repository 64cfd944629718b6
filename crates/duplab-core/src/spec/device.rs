//! What a user asks for with `--device` or a preset's `training.device`: `auto`, `gpu`, `gpu:N`
//! or `cpu`. Plain text, parsed in one place for the command line, presets and the lab, and
//! written into launch records and Slurm scripts as the same text; the backend resolves it.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceChoice {
    /// A real GPU if one is found (under Slurm, the one the allocation gives), else the CPU.
    #[default]
    Auto,
    /// wgpu on the best adapter, even a software one (lavapipe); an error if there is none.
    Gpu,
    /// wgpu on adapter N as `duplab doctor` numbers them; an error listing them if there is none.
    GpuIndex(usize),
    /// burn's flex CPU backend.
    Cpu,
}

pub const ALLOWED: &str = "auto, gpu, gpu:N (an adapter as `duplab doctor` lists them), cpu";

impl FromStr for DeviceChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(DeviceChoice::Auto),
            "gpu" => Ok(DeviceChoice::Gpu),
            "cpu" => Ok(DeviceChoice::Cpu),
            other => match other.strip_prefix("gpu:").map(str::parse::<usize>) {
                Some(Ok(n)) => Ok(DeviceChoice::GpuIndex(n)),
                _ => Err(format!("`{s}` is not a device; allowed: {ALLOWED}")),
            },
        }
    }
}

impl fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceChoice::Auto => f.write_str("auto"),
            DeviceChoice::Gpu => f.write_str("gpu"),
            DeviceChoice::GpuIndex(n) => write!(f, "gpu:{n}"),
            DeviceChoice::Cpu => f.write_str("cpu"),
        }
    }
}

impl serde::Serialize for DeviceChoice {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for DeviceChoice {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl DeviceChoice {
    /// The lab's device key cycles auto → cpu → gpu → gpu:0 … gpu:(n−1) → auto over `n` adapters.
    pub fn next(self, adapters: usize) -> DeviceChoice {
        self.next_free(adapters, &|_| false)
    }

    /// `next`, passing over the adapters `busy` says a running run holds: the launcher offers
    /// the free cards.
    pub fn next_free(self, adapters: usize, busy: &dyn Fn(usize) -> bool) -> DeviceChoice {
        let first_free = |from: usize| (from..adapters).find(|&i| !busy(i));
        let indexed = |from: usize| {
            first_free(from)
                .map(DeviceChoice::GpuIndex)
                .unwrap_or(DeviceChoice::Auto)
        };
        match self {
            DeviceChoice::Auto => DeviceChoice::Cpu,
            DeviceChoice::Cpu => DeviceChoice::Gpu,
            DeviceChoice::Gpu if adapters > 1 => indexed(0),
            DeviceChoice::GpuIndex(n) => indexed(n + 1),
            _ => DeviceChoice::Auto,
        }
    }

    /// The adapter a run's config names (`gpu:N …`), if it names one.
    pub fn index_in(device: &str) -> Option<usize> {
        device
            .strip_prefix("gpu:")?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_choice_reads_back_what_it_writes() {
        for c in [
            DeviceChoice::Auto,
            DeviceChoice::Gpu,
            DeviceChoice::GpuIndex(7),
            DeviceChoice::Cpu,
        ] {
            assert_eq!(c.to_string().parse::<DeviceChoice>(), Ok(c));
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(serde_json::from_str::<DeviceChoice>(&json).unwrap(), c);
        }
        assert_eq!("GPU:3".parse(), Ok(DeviceChoice::GpuIndex(3)));
        let e = "gpu:x".parse::<DeviceChoice>().unwrap_err();
        assert!(e.contains("allowed: auto, gpu, gpu:N"), "{e}");
        assert!("tpu".parse::<DeviceChoice>().is_err());
    }

    #[test]
    fn the_lab_cycles_through_every_adapter() {
        let mut c = DeviceChoice::Auto;
        let mut seen = vec![];
        for _ in 0..6 {
            c = c.next(3);
            seen.push(c.to_string());
        }
        assert_eq!(seen, ["cpu", "gpu", "gpu:0", "gpu:1", "gpu:2", "auto"]);
        assert_eq!(DeviceChoice::Gpu.next(1), DeviceChoice::Auto);
        // Cards a running run holds are passed over.
        let busy = |i: usize| i == 0 || i == 2;
        assert_eq!(
            DeviceChoice::Gpu.next_free(4, &busy),
            DeviceChoice::GpuIndex(1)
        );
        assert_eq!(
            DeviceChoice::GpuIndex(1).next_free(4, &busy),
            DeviceChoice::GpuIndex(3)
        );
        assert_eq!(
            DeviceChoice::GpuIndex(3).next_free(4, &busy),
            DeviceChoice::Auto
        );
        assert_eq!(
            DeviceChoice::index_in("gpu:12 NVIDIA H200 (Vulkan, DiscreteGpu)"),
            Some(12)
        );
        assert_eq!(DeviceChoice::index_in("Intel Xeon (2 threads)"), None);
    }
}
