//! Every crossing between host and device that training, attacks and models make goes through
//! here, and is counted: an upload (host data into a tensor) or a blocking readback (a tensor's
//! values back on the host, which waits for the device to finish). On a GPU each one is a
//! synchronisation or a copy across the bus; the trainer keeps them to one upload a step (the
//! batch's indices, with the augmentation's offsets in the same buffer) and no readback between
//! metric windows, and records what it did in the run's summary (tested). A test scans the
//! sources: a tensor crossing written anywhere else fails it.
//!
//! The counts are per thread: a trainer counts its own work, whatever other threads do.

use burn::prelude::*;
use std::cell::Cell;

thread_local! {
    static UPLOADS: Cell<u64> = const { Cell::new(0) };
    static READBACKS: Cell<u64> = const { Cell::new(0) };
}

/// Crossings made by this thread so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub uploads: u64,
    pub readbacks: u64,
}

impl std::ops::Sub for Counts {
    type Output = Counts;
    fn sub(self, o: Counts) -> Counts {
        Counts {
            uploads: self.uploads - o.uploads,
            readbacks: self.readbacks - o.readbacks,
        }
    }
}

pub fn counts() -> Counts {
    Counts {
        uploads: UPLOADS.with(Cell::get),
        readbacks: READBACKS.with(Cell::get),
    }
}

fn uploaded() {
    UPLOADS.with(|c| c.set(c.get() + 1));
}

fn read() {
    READBACKS.with(|c| c.set(c.get() + 1));
}

pub fn upload_f32<const D: usize>(v: Vec<f32>, shape: [usize; D], device: &Device) -> Tensor<D> {
    uploaded();
    Tensor::<D>::from_data(TensorData::new(v, shape), device)
}

pub fn upload_i64<const D: usize>(
    v: Vec<i64>,
    shape: [usize; D],
    device: &Device,
) -> Tensor<D, Int> {
    uploaded();
    Tensor::<D, Int>::from_data(TensorData::new(v, shape), device)
}

pub fn read_f32<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    read();
    t.into_data().iter::<f32>().collect()
}

pub fn read_i64<const D: usize>(t: Tensor<D, Int>) -> Vec<i64> {
    read();
    t.into_data().iter::<i64>().collect()
}

pub fn read_bool<const D: usize>(t: Tensor<D, Bool>) -> Vec<bool> {
    read();
    t.into_data().iter::<bool>().collect()
}

pub fn scalar_f32(t: Tensor<1>) -> f32 {
    read();
    t.into_scalar::<f32>()
}

pub fn scalar_i64(t: Tensor<1, Int>) -> i64 {
    read();
    t.into_scalar::<i64>()
}

#[cfg(test)]
mod tests {
    /// The calls that move tensor data between host and device.
    const CROSSINGS: &[&str] = &[
        ".into_data()",
        ".to_data()",
        "into_data_async",
        "to_data_async",
        ".into_scalar",
        "from_data(",
        "from_floats(",
        "from_ints(",
        "from_bool(",
    ];

    /// No code of the trainer, the attacks or the models moves tensor data except through this
    /// module (test code, after its `#[cfg(test)]`, may).
    #[test]
    fn every_crossing_goes_through_the_counting_wrapper() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut offences = vec![];
        let mut files = vec![];
        for dir in ["train", "attack", "nn"] {
            let mut stack = vec![root.join(dir)];
            while let Some(d) = stack.pop() {
                for e in std::fs::read_dir(&d).unwrap() {
                    let p = e.unwrap().path();
                    if p.is_dir() {
                        stack.push(p);
                    } else if p.extension().is_some_and(|x| x == "rs") {
                        files.push(p);
                    }
                }
            }
        }
        assert!(
            files.len() > 20,
            "the scan found the sources: {}",
            files.len()
        );
        for p in files {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            if name == "transfer.rs" || name.ends_with("tests.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            // Test code (an inline `#[cfg(test)] mod … {` to the end of the file) may cross; a
            // `#[cfg(test)] mod name;` line only includes another file, and the scan goes on.
            let lines: Vec<&str> = text.lines().collect();
            let includes_a_file = |i: usize| {
                lines[i + 1..]
                    .iter()
                    .find(|l| !l.trim_start().starts_with("#["))
                    .is_some_and(|l| {
                        l.trim_start().starts_with("mod ") && l.trim_end().ends_with(';')
                    })
            };
            let end = (0..lines.len())
                .find(|&i| lines[i].trim() == "#[cfg(test)]" && !includes_a_file(i))
                .unwrap_or(lines.len());
            for (n, line) in lines[..end].iter().enumerate() {
                let code = line.split("//").next().unwrap();
                if CROSSINGS.iter().any(|c| code.contains(c)) {
                    offences.push(format!("{}:{}: {}", p.display(), n + 1, line.trim()));
                }
            }
        }
        assert!(
            offences.is_empty(),
            "tensor data crosses outside transfer.rs:\n{}",
            offences.join("\n")
        );
    }
}
