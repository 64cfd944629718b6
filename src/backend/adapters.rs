//! The wgpu adapters of this machine, numbered as burn addresses them, and the pure choice of
//! one for a `--device` (tested with many GPUs; this machine has one software adapter).
//!
//! burn's `DeviceKind::DiscreteGpu(n)` is the n-th adapter *of that type* on the graphics API
//! its devices come up on (cubecl's `select_from_adapter_list`: Vulkan wherever Vulkan has a
//! hardware adapter). `duplab doctor` numbers the adapters of that API in enumeration order, and
//! `gpu:N` maps the N-th to its type and its rank among adapters of the type.

use super::DeviceChoice;
use burn::prelude::DeviceKind;
use burn::tensor::wgpu::wgpu;

/// A wgpu adapter as seen at start-up.
#[derive(Debug, Clone, PartialEq)]
pub struct Adapter {
    pub name: String,
    pub api: String,
    pub kind: wgpu::DeviceType,
    /// `0000:3b:00.0` where the driver reports it (Vulkan on Linux does), else empty.
    pub pci_bus_id: String,
    pub driver: String,
    pub driver_info: String,
}

impl Adapter {
    pub fn describe(&self) -> String {
        format!("{} ({}, {:?})", self.name, self.api, self.kind)
    }
}

fn is_real_gpu(k: wgpu::DeviceType) -> bool {
    matches!(
        k,
        wgpu::DeviceType::DiscreteGpu
            | wgpu::DeviceType::IntegratedGpu
            | wgpu::DeviceType::VirtualGpu
    )
}

fn rank(k: wgpu::DeviceType) -> u8 {
    match k {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        _ => 3,
    }
}

/// A PCI bus id as Vulkan (`0000:3b:00.0`) and nvidia-smi (`00000000:3B:00.0`) write it, in one
/// form: lower case, the domain as a number.
pub fn normalise_bus_id(id: &str) -> Option<String> {
    let id = id.trim().to_ascii_lowercase();
    let (domain, rest) = id.rsplit_once(':').and_then(|(head, func)| {
        let (domain, bus) = head.split_once(':')?;
        Some((domain.to_string(), format!("{bus}:{func}")))
    })?;
    let domain = u32::from_str_radix(&domain, 16).ok()?;
    Some(format!("{domain:04x}:{rest}"))
}

/// The adapter chosen for a `--device`, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Pick {
    /// Index into the adapter list (what `gpu:N` names).
    pub index: usize,
    /// What burn addresses it by.
    pub kind: DeviceKind,
    pub why: String,
}

/// burn's address of adapter `index`: its type, and its rank among the adapters of that type.
/// burn has no address for an adapter of type `Other`, nor for any software adapter but the
/// first (cubecl always opens CPU adapter 0): those are errors, never another card in their place.
pub fn burn_kind(list: &[Adapter], index: usize) -> Result<DeviceKind, String> {
    let k = list[index].kind;
    let n = list[..index].iter().filter(|a| a.kind == k).count();
    match k {
        wgpu::DeviceType::DiscreteGpu => Ok(DeviceKind::DiscreteGpu(n)),
        wgpu::DeviceType::IntegratedGpu => Ok(DeviceKind::IntegratedGpu(n)),
        wgpu::DeviceType::VirtualGpu => Ok(DeviceKind::VirtualGpu(n)),
        wgpu::DeviceType::Cpu if n == 0 => Ok(DeviceKind::Cpu),
        _ => Err(format!(
            "gpu:{index} ({}) is an adapter burn cannot address (type {k:?}{}); choose another: {}",
            list[index].name,
            if n > 0 {
                ", not the first of its type"
            } else {
                ""
            },
            listing(list)
        )),
    }
}

/// The numbered list, as errors and `duplab doctor` show it.
pub fn listing(list: &[Adapter]) -> String {
    if list.is_empty() {
        return "no wgpu adapter".into();
    }
    list.iter()
        .enumerate()
        .map(|(i, a)| format!("gpu:{i} {}", a.describe()))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Choose an adapter for `choice` from `list` (in enumeration order). `allocated` is the PCI bus
/// id of the GPU a scheduler gave this process (Slurm), which `auto` takes when it is listed.
/// `Ok(None)`: the CPU (`cpu`, or `auto` without a real GPU).
pub fn choose(
    list: &[Adapter],
    choice: DeviceChoice,
    allocated: Option<&str>,
) -> Result<Option<Pick>, String> {
    let pick = |index: usize, why: String| -> Result<Pick, String> {
        Ok(Pick {
            index,
            kind: burn_kind(list, index)?,
            why,
        })
    };
    let best = |real_only: bool| {
        (0..list.len())
            .filter(|&i| !real_only || is_real_gpu(list[i].kind))
            .min_by_key(|&i| (rank(list[i].kind), i))
    };
    match choice {
        DeviceChoice::Cpu => Ok(None),
        DeviceChoice::GpuIndex(n) if n < list.len() => pick(n, format!("gpu:{n} asked for")).map(Some),
        DeviceChoice::GpuIndex(n) => Err(format!(
            "--device gpu:{n}: this machine has {} wgpu adapter(s): {}",
            list.len(),
            listing(list)
        )),
        DeviceChoice::Gpu => match best(false) {
            Some(i) => pick(i, "the best adapter (gpu asked for)".into()).map(Some),
            None => Err("no wgpu adapter found (no GPU, or no Vulkan loader/driver: on Debian, apt-get install libvulkan1 and a driver such as mesa-vulkan-drivers; `duplab doctor` says more); use --device cpu".into()),
        },
        DeviceChoice::Auto => {
            if let Some(bus) = allocated.and_then(normalise_bus_id) {
                let hit = (0..list.len())
                    .find(|&i| normalise_bus_id(&list[i].pci_bus_id).as_deref() == Some(&bus));
                if let Some(i) = hit {
                    return pick(i, format!("the GPU the allocation gives (PCI {bus})")).map(Some);
                }
            }
            best(true)
                .map(|i| pick(i, "the first real GPU, discrete first".into()))
                .transpose()
        }
    }
}

/// Every wgpu adapter of the graphics API burn's devices come up on, in enumeration order: as
/// cubecl settles it (`AutoGraphicsApi`), the first of Vulkan, DX12 and OpenGL (Metal on macOS)
/// with an adapter that is not a software one, else the first with any. Enumerated once per
/// process, under a lock: the Vulkan loader crashes when instances come and go on several
/// threads at once. Never panics: a machine without a loader simply has none.
pub fn adapters() -> Vec<Adapter> {
    static LIST: std::sync::OnceLock<Vec<Adapter>> = std::sync::OnceLock::new();
    LIST.get_or_init(|| {
        std::panic::catch_unwind(|| {
            let chain: &[wgpu::Backend] = if cfg!(target_os = "macos") {
                &[wgpu::Backend::Metal]
            } else {
                &[
                    wgpu::Backend::Vulkan,
                    wgpu::Backend::Dx12,
                    wgpu::Backend::Gl,
                ]
            };
            let mut software: Option<Vec<Adapter>> = None;
            for &api in chain {
                let list = probe(api);
                if list.iter().any(|a| a.kind != wgpu::DeviceType::Cpu) {
                    return list;
                }
                if software.is_none() && !list.is_empty() {
                    software = Some(list);
                }
            }
            software.unwrap_or_default()
        })
        .unwrap_or_default()
    })
    .clone()
}

fn probe(api: wgpu::Backend) -> Vec<Adapter> {
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
        backends: api.into(),
        ..wgpu::InstanceDescriptor::new_without_display_handle()
    });
    super::block_on(instance.enumerate_adapters(api.into()))
        .iter()
        .map(|a| {
            let i = a.get_info();
            Adapter {
                name: i.name.clone(),
                api: format!("{:?}", i.backend),
                kind: i.device_type,
                pci_bus_id: i.device_pci_bus_id.clone(),
                driver: i.driver.clone(),
                driver_info: i.driver_info.clone(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use wgpu::DeviceType::{Cpu, DiscreteGpu, IntegratedGpu};

    fn a(name: &str, kind: wgpu::DeviceType, bus: &str) -> Adapter {
        Adapter {
            name: name.into(),
            api: "Vulkan".into(),
            kind,
            pci_bus_id: bus.into(),
            driver: String::new(),
            driver_info: String::new(),
        }
    }

    /// An 8-GPU server with the software adapter and an integrated GPU enumerated among them.
    fn server() -> Vec<Adapter> {
        let mut l = vec![
            a("llvmpipe", Cpu, ""),
            a("iGPU", IntegratedGpu, "0000:00:02.0"),
        ];
        for g in 0..8 {
            l.push(a(
                &format!("H200 #{g}"),
                DiscreteGpu,
                &format!("0000:{:02x}:00.0", 0x18 + 0x10 * g),
            ));
        }
        l
    }

    #[test]
    fn gpu_n_is_the_listed_adapter_and_burn_counts_within_its_type() {
        let l = server();
        let p = choose(&l, DeviceChoice::GpuIndex(5), None)
            .unwrap()
            .unwrap();
        assert_eq!(p.index, 5);
        assert_eq!(l[5].name, "H200 #3");
        assert_eq!(p.kind, DeviceKind::DiscreteGpu(3));
        assert_eq!(burn_kind(&l, 1), Ok(DeviceKind::IntegratedGpu(0)));
        assert_eq!(burn_kind(&l, 0), Ok(DeviceKind::Cpu));
        // burn cannot address an `Other` adapter, nor a second software one: an error, not
        // another card in its place.
        let mut odd = server();
        odd.push(a("llvmpipe #2", Cpu, ""));
        odd.push(a("gl thing", wgpu::DeviceType::Other, ""));
        let e = choose(&odd, DeviceChoice::GpuIndex(10), None).unwrap_err();
        assert!(
            e.contains("cannot address") && e.contains("not the first"),
            "{e}"
        );
        assert!(
            choose(&odd, DeviceChoice::GpuIndex(11), None)
                .unwrap_err()
                .contains("Other")
        );
        let e = choose(&l, DeviceChoice::GpuIndex(10), None).unwrap_err();
        assert!(
            e.contains("has 10 wgpu adapter(s)") && e.contains("gpu:9 H200 #7"),
            "{e}"
        );
    }

    #[test]
    fn auto_takes_the_allocated_gpu_by_pci_bus_id_else_the_first_discrete() {
        let l = server();
        // nvidia-smi writes the domain with 8 digits, in upper case.
        let p = choose(&l, DeviceChoice::Auto, Some("00000000:58:00.0"))
            .unwrap()
            .unwrap();
        assert_eq!(l[p.index].name, "H200 #4");
        assert_eq!(p.kind, DeviceKind::DiscreteGpu(4));
        assert!(p.why.contains("allocation"), "{}", p.why);
        let p = choose(&l, DeviceChoice::Auto, None).unwrap().unwrap();
        assert_eq!(p.kind, DeviceKind::DiscreteGpu(0));
        // An allocation this process cannot see falls back to the first discrete GPU.
        let p = choose(&l, DeviceChoice::Auto, Some("0000:ff:00.0"))
            .unwrap()
            .unwrap();
        assert_eq!(p.kind, DeviceKind::DiscreteGpu(0));
    }

    #[test]
    fn software_adapters_count_only_when_asked_for() {
        let l = vec![a("llvmpipe", Cpu, "")];
        assert_eq!(choose(&l, DeviceChoice::Auto, None), Ok(None));
        let p = choose(&l, DeviceChoice::Gpu, None).unwrap().unwrap();
        assert_eq!(p.kind, DeviceKind::Cpu);
        assert_eq!(choose(&l, DeviceChoice::Cpu, None), Ok(None));
        assert!(
            choose(&[], DeviceChoice::Gpu, None)
                .unwrap_err()
                .contains("no wgpu adapter")
        );
        let p = choose(&server(), DeviceChoice::Gpu, None).unwrap().unwrap();
        assert_eq!(p.index, 2, "discrete before integrated and software");
    }

    #[test]
    fn bus_ids_compare_across_vulkan_and_nvidia_smi() {
        assert_eq!(
            normalise_bus_id("00000000:3B:00.0").as_deref(),
            Some("0000:3b:00.0")
        );
        assert_eq!(
            normalise_bus_id("0000:3b:00.0").as_deref(),
            Some("0000:3b:00.0")
        );
        assert_eq!(normalise_bus_id(""), None);
        assert_eq!(normalise_bus_id("garbage"), None);
    }
}
