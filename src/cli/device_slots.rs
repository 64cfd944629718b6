//! `duplab sweep --devices 0,1,…`: each running point on a device of its own. A point takes a
//! free device when it starts and gives it back when its trainer exits, so `--jobs` points run
//! at once on as many cards (at most one point a card).

use crate::backend::DeviceChoice;

#[derive(Debug)]
pub struct DeviceSlots {
    /// The sweep's `--device`, for every point when no list was given (`None`: each point's
    /// preset decides).
    shared: Option<DeviceChoice>,
    /// Free adapters (`gpu:N`), lowest first; `None` without `--devices`.
    free: Option<Vec<usize>>,
    /// Points at once.
    pub jobs: usize,
}

impl DeviceSlots {
    /// `jobs` defaults to the number of listed devices (else 1), and cannot exceed it.
    pub fn new(
        shared: Option<DeviceChoice>,
        devices: Option<Vec<usize>>,
        jobs: Option<usize>,
    ) -> Result<DeviceSlots, String> {
        let Some(mut list) = devices else {
            return Ok(DeviceSlots {
                shared,
                free: None,
                jobs: jobs.unwrap_or(1).max(1),
            });
        };
        if let Some(d) = shared.filter(|d| *d != DeviceChoice::Auto) {
            return Err(format!(
                "--devices places each point on its own adapter; drop --device {d}"
            ));
        }
        list.sort_unstable();
        let n = list.len();
        list.dedup();
        if list.is_empty() || list.len() != n {
            return Err("--devices needs distinct adapter numbers, e.g. --devices 0,1,2,3".into());
        }
        let jobs = jobs.unwrap_or(list.len()).max(1);
        if jobs > list.len() {
            return Err(format!(
                "--jobs {jobs} with {} device(s) would put two points on one card; at most --jobs {}",
                list.len(),
                list.len()
            ));
        }
        list.reverse(); // popped from the end: the lowest first
        Ok(DeviceSlots {
            shared,
            free: Some(list),
            jobs,
        })
    }

    /// The device of a point about to start (`None`: its preset decides). Called only while
    /// fewer than `jobs` points run, so a listed card is always free (`new` keeps `jobs` at most
    /// the number of cards, and every exited point gives its card back).
    pub fn take(&mut self) -> Option<DeviceChoice> {
        match &mut self.free {
            None => self.shared,
            Some(free) => Some(DeviceChoice::GpuIndex(
                free.pop().expect("fewer points run than cards are listed"),
            )),
        }
    }

    /// A point's trainer exited: its device is free again.
    pub fn give_back(&mut self, d: Option<DeviceChoice>) {
        if let (Some(free), Some(DeviceChoice::GpuIndex(n))) = (&mut self.free, d) {
            free.push(n);
            free.sort_unstable_by(|a, b| b.cmp(a));
        }
    }
}

/// `--devices` against the adapters this machine has: each must exist and be a real GPU (a
/// software rasteriser would train a point at a hundredth of the speed).
pub fn check_devices(devices: &[usize], list: &[crate::backend::Adapter]) -> Result<(), String> {
    use burn::tensor::wgpu::wgpu::DeviceType;
    for &d in devices {
        match list.get(d) {
            None => {
                return Err(format!(
                    "--devices {d}: this machine has {} wgpu adapter(s): {}",
                    list.len(),
                    crate::backend::listing(list)
                ));
            }
            Some(a) if matches!(a.kind, DeviceType::Cpu | DeviceType::Other) => {
                return Err(format!(
                    "--devices {d}: gpu:{d} is {} ({:?}), not a GPU; --devices takes GPUs (`duplab doctor` lists them)",
                    a.name, a.kind
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_must_be_real_gpus_of_this_machine() {
        use burn::tensor::wgpu::wgpu::DeviceType;
        let a = |name: &str, kind| crate::backend::Adapter {
            name: name.into(),
            api: "Vulkan".into(),
            kind,
            pci_bus_id: String::new(),
            driver: String::new(),
            driver_info: String::new(),
        };
        let list = vec![
            a("llvmpipe", DeviceType::Cpu),
            a("H200", DeviceType::DiscreteGpu),
        ];
        assert!(check_devices(&[1], &list).is_ok());
        assert!(
            check_devices(&[0], &list)
                .unwrap_err()
                .contains("not a GPU")
        );
        assert!(
            check_devices(&[2], &list)
                .unwrap_err()
                .contains("has 2 wgpu adapter(s)")
        );
    }

    #[test]
    fn each_running_point_gets_a_card_of_its_own() {
        for shared in [None, Some(DeviceChoice::Auto)] {
            let mut s = DeviceSlots::new(shared, Some(vec![3, 1, 2, 0]), None).unwrap();
            assert_eq!(s.jobs, 4);
            let taken: Vec<_> = (0..4).map(|_| s.take().unwrap()).collect();
            assert_eq!(
                taken.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
                ["gpu:0", "gpu:1", "gpu:2", "gpu:3"]
            );
            s.give_back(Some(DeviceChoice::GpuIndex(2)));
            assert_eq!(s.take(), Some(DeviceChoice::GpuIndex(2)));
        }
    }

    #[test]
    fn without_a_list_every_point_shares_the_sweeps_device_or_its_presets() {
        let mut s = DeviceSlots::new(Some(DeviceChoice::Cpu), None, Some(3)).unwrap();
        assert_eq!(
            (s.take(), s.take(), s.jobs),
            (Some(DeviceChoice::Cpu), Some(DeviceChoice::Cpu), 3)
        );
        // No --device: nothing is imposed, each point's preset decides.
        let mut s = DeviceSlots::new(None, None, None).unwrap();
        assert_eq!((s.take(), s.jobs), (None, 1));
    }

    #[test]
    fn impossible_placements_are_refused() {
        let auto = Some(DeviceChoice::Auto);
        let e = DeviceSlots::new(auto, Some(vec![0, 1]), Some(3)).unwrap_err();
        assert!(e.contains("at most --jobs 2"), "{e}");
        let e = DeviceSlots::new(Some(DeviceChoice::Cpu), Some(vec![0]), None).unwrap_err();
        assert!(e.contains("drop --device cpu"), "{e}");
        assert!(DeviceSlots::new(auto, Some(vec![1, 1]), None).is_err());
        assert_eq!(
            DeviceSlots::new(auto, Some(vec![0, 1]), Some(1))
                .unwrap()
                .jobs,
            1
        );
    }
}
