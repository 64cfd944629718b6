//! The one place where the compute backend is chosen: wgpu on a real GPU, burn's `flex` CPU
//! backend otherwise. The choice is shown to the user and written into every run's config.
//!
//! Why flex and not ndarray on the CPU: measured on this project's 2-core machines, flex trains
//! the small CNN ~10× faster than ndarray (≈1,560 vs ≈155 images/s; ndarray's conv2d is a direct
//! loop), and ndarray is deprecated in burn 0.22. See the README's benchmark section.

use burn::prelude::*;
use burn::tensor::wgpu::wgpu;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum DeviceChoice {
    /// A real GPU if one is found, else the CPU.
    Auto,
    /// wgpu on the best adapter, even a software one (lavapipe); an error if there is none.
    Gpu,
    /// burn's flex CPU backend.
    Cpu,
}

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

/// A wgpu adapter as seen at start-up.
#[derive(Debug, Clone)]
pub struct Adapter {
    pub name: String,
    pub api: String,
    pub kind: wgpu::DeviceType,
}

/// Every wgpu adapter this machine offers (Vulkan / Metal / DX12). Never panics: a machine
/// without a loader simply has none.
pub fn adapters() -> Vec<Adapter> {
    std::panic::catch_unwind(|| {
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle());
        block_on(instance.enumerate_adapters(wgpu::Backends::PRIMARY))
            .iter()
            .map(|a| {
                let i = a.get_info();
                Adapter {
                    name: i.name.clone(),
                    api: format!("{:?}", i.backend),
                    kind: i.device_type,
                }
            })
            .collect()
    })
    .unwrap_or_default()
}

fn is_real_gpu(k: wgpu::DeviceType) -> bool {
    matches!(
        k,
        wgpu::DeviceType::DiscreteGpu
            | wgpu::DeviceType::IntegratedGpu
            | wgpu::DeviceType::VirtualGpu
    )
}

fn wgpu_kind(k: wgpu::DeviceType) -> DeviceKind {
    match k {
        wgpu::DeviceType::DiscreteGpu => DeviceKind::DiscreteGpu(0),
        wgpu::DeviceType::IntegratedGpu => DeviceKind::IntegratedGpu(0),
        wgpu::DeviceType::VirtualGpu => DeviceKind::VirtualGpu(0),
        _ => DeviceKind::Cpu,
    }
}

/// No adapter for the device asked for, with what to install or pass instead.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct DeviceError(pub String);

/// Choose the device. `auto` takes a real GPU (discrete first) and otherwise the CPU; a software
/// Vulkan adapter such as lavapipe counts only when asked for with `gpu`.
pub fn select(choice: DeviceChoice) -> Result<Selected, DeviceError> {
    if choice == DeviceChoice::Cpu {
        return Ok(Selected {
            device: cpu_device().autodiff(),
            backend: "flex".into(),
            adapter: cpu_name(),
        });
    }
    let mut found = adapters();
    // Best first: discrete, integrated, virtual, then software.
    found.sort_by_key(|a| match a.kind {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        _ => 3,
    });
    let pick = match choice {
        DeviceChoice::Auto => found.iter().find(|a| is_real_gpu(a.kind)),
        _ => found.first(),
    };
    match (pick, choice) {
        (Some(a), _) => Ok(Selected {
            device: Device::wgpu(wgpu_kind(a.kind)).autodiff(),
            backend: "wgpu".into(),
            adapter: format!("{} ({}, {:?})", a.name, a.api, a.kind),
        }),
        (None, DeviceChoice::Auto) => Ok(Selected { device: cpu_device().autodiff(), backend: "flex".into(), adapter: cpu_name() }),
        (None, _) => Err(DeviceError(
            "no wgpu adapter found (no GPU, or no Vulkan loader/driver: on Debian, apt-get install libvulkan1 and a driver such as mesa-vulkan-drivers); use --device cpu".into(),
        )),
    }
}
