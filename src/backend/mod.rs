//! The one place where the compute backend is chosen: wgpu on a real GPU, burn's `flex` CPU
//! backend otherwise. The choice is shown to the user and written into every run's config.
//!
//! Why flex and not ndarray on the CPU: measured on this project's 2-core machines, flex trains
//! the small CNN ~10× faster than ndarray (≈1,560 vs ≈155 images/s; ndarray's conv2d is a direct
//! loop), and ndarray is deprecated in burn 0.22. See the README's benchmark section.

mod adapters;
mod allocation;
mod memory;

pub use crate::spec::{DEVICE_ALLOWED, DeviceChoice};
pub use adapters::{Adapter, Pick, adapters, burn_kind, choose, listing, normalise_bus_id};
pub use allocation::{allocated_bus_id, bus_of_visible};
pub use memory::keep_freed_memory;

use burn::prelude::*;

/// A chosen device with the names users see.
#[derive(Debug, Clone)]
pub struct Selected {
    /// The autodiff device training runs on.
    pub device: Device,
    /// `wgpu` or `flex`.
    pub backend: String,
    /// Adapter or CPU description, e.g. `NVIDIA H200 (Vulkan, DiscreteGpu)`.
    pub adapter: String,
}

impl Selected {
    pub fn label(&self) -> String {
        format!("{} on {}", self.backend, self.adapter)
    }
}

pub fn cpu_device() -> Device {
    Device::flex()
}

fn cpu_name() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "CPU".into());
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    format!("{model} ({threads} threads)")
}

/// Drive a future that completes without waiting (wgpu's native adapter enumeration).
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::yield_now();
    }
}

/// No adapter for the device asked for, with what to install or pass instead.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct DeviceError(pub String);

/// Choose the device. `auto` takes the GPU a scheduler allocated (by PCI bus id), else a real
/// GPU (discrete first), else the CPU; a software Vulkan adapter such as lavapipe counts only when
/// asked for with `gpu` or `gpu:N`.
pub fn select(choice: DeviceChoice) -> Result<Selected, DeviceError> {
    let cpu = || Selected {
        device: cpu_device().autodiff(),
        backend: "flex".into(),
        adapter: cpu_name(),
    };
    if choice == DeviceChoice::Cpu {
        return Ok(cpu());
    }
    let found = adapters();
    let allocated = match choice {
        DeviceChoice::Auto => allocation::allocated_bus_id(),
        _ => None,
    };
    match adapters::choose(&found, choice, allocated.as_deref()).map_err(DeviceError)? {
        Some(p) => Ok(Selected {
            device: Device::wgpu(p.kind).autodiff(),
            backend: "wgpu".into(),
            // The adapter as `gpu:N` names it, into every run's config.json.
            adapter: format!("gpu:{} {}", p.index, found[p.index].describe()),
        }),
        None => Ok(cpu()),
    }
}

/// The Vulkan drivers' window-system code prints "XDG_RUNTIME_DIR is invalid or not set" on
/// every adapter enumeration of a headless session (SSH without a login manager, containers,
/// Slurm tasks); duplab draws no windows, so a private folder stands in for it. Returns the
/// folder it set, if any. Must run before any thread starts (it sets an environment variable).
pub fn quiet_driver_noise() -> Option<std::path::PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    let uid = unsafe { libc::getuid() };
    let usable = |p: &std::path::Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_dir() && m.uid() == uid && m.mode() & 0o077 == 0)
    };
    if std::env::var_os("XDG_RUNTIME_DIR").is_some_and(|d| usable(std::path::Path::new(&d))) {
        return None;
    }
    let dir = std::env::temp_dir().join(format!("duplab-runtime-{uid}"));
    let _ = std::fs::DirBuilder::new().mode(0o700).create(&dir);
    if !usable(&dir) {
        return None;
    }
    // SAFETY: called from main before any other thread exists.
    unsafe { std::env::set_var("XDG_RUNTIME_DIR", &dir) };
    Some(dir)
}
