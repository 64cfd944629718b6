use sha2::{Digest, Sha256};

/// Images as u8, N×C×H×W in one buffer, with their labels and class names.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    pub images: Vec<u8>,
    pub labels: Vec<u8>,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
}

impl Split {
    pub fn len(&self) -> usize {
        self.labels.len()
    }
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
    pub fn image_size(&self) -> usize {
        self.channels * self.height * self.width
    }
    pub fn image(&self, i: usize) -> &[u8] {
        let s = self.image_size();
        &self.images[i * s..(i + 1) * s]
    }
    pub fn class_counts(&self, num_classes: usize) -> Vec<usize> {
        let mut c = vec![0; num_classes];
        for &l in &self.labels {
            c[l as usize] += 1;
        }
        c
    }
}

/// A named data set: train and test splits and class names.
#[derive(Debug, Clone, PartialEq)]
pub struct DataSet {
    pub name: String,
    /// Where it was read from (a folder, or `embedded`).
    pub source: String,
    pub train: Split,
    pub test: Split,
    pub class_names: Vec<String>,
}

impl DataSet {
    pub fn num_classes(&self) -> usize {
        self.class_names.len()
    }
    /// Per-channel mean and std of the train images in [0, 1]; the model normalises with these.
    pub fn channel_stats(&self) -> (Vec<f32>, Vec<f32>) {
        let s = &self.train;
        let plane = s.height * s.width;
        let mut mean = vec![0f64; s.channels];
        let mut sq = vec![0f64; s.channels];
        for i in 0..s.len() {
            let img = s.image(i);
            for c in 0..s.channels {
                for &p in &img[c * plane..(c + 1) * plane] {
                    let v = p as f64 / 255.0;
                    mean[c] += v;
                    sq[c] += v * v;
                }
            }
        }
        let n = (s.len() * plane).max(1) as f64;
        let m: Vec<f32> = mean.iter().map(|v| (v / n) as f32).collect();
        let sd: Vec<f32> = sq
            .iter()
            .zip(&m)
            .map(|(q, m)| ((q / n) - (*m as f64).powi(2)).max(1e-12).sqrt() as f32)
            .collect();
        (m, sd)
    }
}

/// SHA-256 of a byte buffer, hex, for `data inspect` and run configs.
pub fn checksum(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    d.iter().map(|b| format!("{b:02x}")).collect()
}
