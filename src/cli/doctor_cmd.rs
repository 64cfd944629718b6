//! `duplab doctor`: the driver stack a GPU run depends on, as a person debugging a headless
//! server needs it — the Vulkan loader and the ICD files it reads, every adapter (numbered as
//! `--device gpu:N` takes them), which one `auto` takes and why, the compile/autotune cache and
//! how to share it across array tasks, the usual headless failures and their fixes, and a short
//! timed training step on each adapter.

use crate::backend::{self, DeviceChoice};
use anyhow::Result;
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct DoctorArgs {
    /// Skip the timed training step on each adapter (it takes a few seconds each).
    #[arg(long)]
    pub no_bench: bool,
}

/// Where the Vulkan loader reads ICD (driver) files from, in its order: the override variables
/// when set, else the standard folders.
pub fn icd_files(env_list: Option<&str>, dirs: &[PathBuf]) -> Vec<(PathBuf, Option<String>)> {
    let files: Vec<PathBuf> = match env_list {
        Some(list) => list
            .split(':')
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
            .collect(),
        None => dirs
            .iter()
            .filter_map(|d| std::fs::read_dir(d).ok())
            .flat_map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect(),
    };
    let mut out: Vec<(PathBuf, Option<String>)> = files
        .into_iter()
        .map(|p| {
            let lib = crate::data::read_capped(&p, 1 << 20)
                .ok()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                .and_then(|v| {
                    v.pointer("/ICD/library_path")
                        .and_then(|l| l.as_str())
                        .map(String::from)
                });
            (p, lib)
        })
        .collect();
    out.sort();
    out
}

const ICD_DIRS: &[&str] = &[
    "/etc/vulkan/icd.d",
    "/usr/local/share/vulkan/icd.d",
    "/usr/share/vulkan/icd.d",
];

const LOADER_DIRS: &[&str] = &[
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/lib64",
    "/usr/lib",
    "/usr/local/lib",
];

fn loader() -> Option<PathBuf> {
    let extra = std::env::var("LD_LIBRARY_PATH").unwrap_or_default();
    extra
        .split(':')
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .chain(LOADER_DIRS.iter().map(PathBuf::from))
        .map(|d| d.join("libvulkan.so.1"))
        .find(|p| p.exists())
}

/// The folder cubecl keeps compiled kernels and autotune results in, by its default rule
/// (`[environment] path = "target"`): `target/environment` beside the outermost `Cargo.toml`
/// above the working directory, else the user cache folder's `cubecl`. A `cubecl.toml` above
/// the working directory can move it; the first one found is returned beside it.
pub fn kernel_cache(cwd: &Path, user_cache: &Path) -> (PathBuf, Option<PathBuf>) {
    let mut outermost = None;
    let mut config = None;
    for dir in cwd.ancestors() {
        if dir.join("Cargo.toml").is_file() {
            outermost = Some(dir);
        }
        if config.is_none() {
            config = ["cubecl.toml", "CubeCL.toml"]
                .iter()
                .map(|n| dir.join(n))
                .find(|p| p.is_file());
        }
    }
    let root = match outermost {
        Some(d) => d.join("target").join("environment"),
        None => user_cache.join("cubecl"),
    };
    (root, config)
}

/// `nvidia-smi`'s GPUs: (PCI bus id, name, total memory) where it answers.
fn smi_gpus() -> Vec<(String, String, String)> {
    let Ok(out) = std::process::Command::new("nvidia-smi")
        .args([
            "--query-gpu=pci.bus_id,name,memory.total",
            "--format=csv,noheader",
        ])
        .output()
    else {
        return vec![];
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').map(str::trim).collect();
            (f.len() == 3).then(|| (f[0].to_string(), f[1].to_string(), f[2].to_string()))
        })
        .collect()
}

pub const FIXES: &str = "\
known fixes for headless servers:
  no Vulkan loader        apt-get install libvulkan1 (and mesa-vulkan-drivers for the software adapter)
  no adapter in Docker    run with --runtime=nvidia --gpus all -e NVIDIA_DRIVER_CAPABILITIES=compute,utility,graphics:
                          without the graphics capability the toolkit mounts no Vulkan ICD (nvidia_icd.json)
  ICD libGLX_nvidia.so.0  fails without an X server (\"Could not get 'vkCreateInstance'\"): give the loader an ICD
                          file naming libEGL_nvidia.so.0, the headless one: VK_DRIVER_FILES=/path/nvidia_egl_icd.json
  every task on one GPU   Vulkan ignores CUDA_VISIBLE_DEVICES; `--device auto` maps the GPU Slurm allocated
                          through nvidia-smi's PCI bus id, or place points yourself: duplab sweep --devices 0,1,…
  out of GPU memory       a smaller training.batch_size (--set training.batch_size=64), or a smaller model
  XDG_RUNTIME_DIR notice  the drivers' window-system code asks for it; duplab points it at a private folder";

pub fn run(a: DoctorArgs) -> Result<i32> {
    println!("duplab doctor\n");
    match loader() {
        Some(p) => println!("Vulkan loader     {}", p.display()),
        None => println!(
            "Vulkan loader     not found (libvulkan.so.1): apt-get install libvulkan1; no GPU run is possible"
        ),
    }
    let env_list = std::env::var("VK_DRIVER_FILES")
        .or_else(|_| std::env::var("VK_ICD_FILENAMES"))
        .ok();
    let icds = icd_files(
        env_list.as_deref(),
        &ICD_DIRS.iter().map(PathBuf::from).collect::<Vec<_>>(),
    );
    println!(
        "ICD files         {} ({})",
        icds.len(),
        if env_list.is_some() {
            "from VK_DRIVER_FILES / VK_ICD_FILENAMES"
        } else {
            "from /etc, /usr/local/share and /usr/share vulkan/icd.d"
        }
    );
    for (p, lib) in &icds {
        println!(
            "                  {} → {}",
            p.display(),
            lib.as_deref().unwrap_or("(unreadable)")
        );
    }
    if let Ok(d) = std::env::var("XDG_RUNTIME_DIR")
        && d.contains("duplab-runtime-")
    {
        println!("runtime folder    {d} (private: silences the drivers' XDG_RUNTIME_DIR notice)");
    }
    let list = backend::adapters();
    let smi = smi_gpus();
    println!(
        "\nadapters          {} on {}",
        list.len(),
        list.first().map_or("no graphics API", |a| a.api.as_str())
    );
    for (i, ad) in list.iter().enumerate() {
        let bus = backend::normalise_bus_id(&ad.pci_bus_id);
        let memory = smi
            .iter()
            .find(|(b, _, _)| bus.is_some() && backend::normalise_bus_id(b) == bus)
            .map(|(_, _, m)| format!(", {m}"))
            .unwrap_or_default();
        println!(
            "  gpu:{i:<3} {:<40} {:?}, driver {} {}, PCI {}{memory}",
            ad.name,
            ad.kind,
            ad.driver,
            ad.driver_info,
            bus.as_deref().unwrap_or("-"),
        );
    }
    let allocated = backend::allocated_bus_id();
    if let Ok(v) = std::env::var("CUDA_VISIBLE_DEVICES") {
        println!(
            "CUDA_VISIBLE_DEVICES={v}: {}",
            allocated
                .as_deref()
                .map_or("nvidia-smi names no such GPU".to_string(), |b| format!(
                    "PCI {b}"
                ))
        );
    }
    match backend::choose(&list, DeviceChoice::Auto, allocated.as_deref()) {
        Ok(Some(p)) => println!("--device auto     gpu:{}: {}", p.index, p.why),
        Ok(None) => println!(
            "--device auto     the CPU: no real GPU{}",
            if list.is_empty() {
                String::new()
            } else {
                " (a software adapter is used only with --device gpu or gpu:N)".into()
            }
        ),
        Err(e) => println!("--device auto     {e}"),
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    let user_cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    let (cache, config) = kernel_cache(&cwd, &user_cache);
    println!(
        "\nkernel cache      {} (compiled kernels, autotune results)",
        cache.display()
    );
    match config {
        Some(c) => println!("                  moved by {}", c.display()),
        None => println!(
            "                  to share it across array tasks, start them in a folder with a cubecl.toml:\n                  [environment]\n                  path = {{ directory = \"/shared/cubecl-cache\" }}"
        ),
    }
    println!("\n{FIXES}\n");
    if !a.no_bench {
        println!(
            "timed training step (small CNN, embedded data, batch 64, after 2 warm-up steps):"
        );
        for i in 0..list.len() {
            let line = match super::bench::quick_rate(DeviceChoice::GpuIndex(i)) {
                Ok(r) => format!("{r:.0} images/s"),
                Err(e) => format!("failed: {e}"),
            };
            println!("  gpu:{i:<3} {line}");
        }
        match super::bench::quick_rate(DeviceChoice::Cpu) {
            Ok(r) => println!("  cpu     {r:.0} images/s"),
            Err(e) => println!("  cpu     failed: {e}"),
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icd_files_name_their_driver_library() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("nvidia_icd.json");
        std::fs::write(&a, r#"{"file_format_version":"1.0.0","ICD":{"library_path":"libGLX_nvidia.so.0","api_version":"1.3"}}"#).unwrap();
        std::fs::write(dir.path().join("broken.json"), "{").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
        let found = icd_files(None, &[dir.path().to_path_buf(), "/nonexistent".into()]);
        assert_eq!(found.len(), 2);
        assert_eq!(found[1], (a.clone(), Some("libGLX_nvidia.so.0".into())));
        assert_eq!(found[0].1, None);
        // The override variable replaces the folders.
        let only = icd_files(Some(&a.display().to_string()), &[]);
        assert_eq!(only, vec![(a, Some("libGLX_nvidia.so.0".into()))]);
    }

    #[test]
    fn the_kernel_cache_follows_cubecls_default_rule() {
        let dir = tempfile::tempdir().unwrap();
        let inner = dir.path().join("ws/member/src");
        std::fs::create_dir_all(&inner).unwrap();
        std::fs::write(dir.path().join("ws/Cargo.toml"), "").unwrap();
        std::fs::write(dir.path().join("ws/member/Cargo.toml"), "").unwrap();
        let user = Path::new("/home/u/.cache");
        let (root, config) = kernel_cache(&inner, user);
        // The outermost manifest: the workspace's target folder.
        assert_eq!(root, dir.path().join("ws/target/environment"));
        assert_eq!(config, None);
        std::fs::write(dir.path().join("ws/member/cubecl.toml"), "").unwrap();
        assert_eq!(
            kernel_cache(&inner, user).1,
            Some(dir.path().join("ws/member/cubecl.toml"))
        );
        let bare = tempfile::tempdir().unwrap();
        assert_eq!(kernel_cache(bare.path(), user).0, user.join("cubecl"));
    }
}
