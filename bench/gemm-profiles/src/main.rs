//! gemm alone at the GEMM shapes of duplab's models (batch 128): the best of 20 calls, one thread
//! and rayon's pool. Which settings it was compiled with is the profile: see Cargo.toml.
use std::time::Instant;

fn bench(m: usize, n: usize, k: usize, par: gemm::Parallelism, label: &str) {
    let a: Vec<f32> = (0..m * k).map(|i| (i % 7) as f32 * 0.1).collect();
    let b: Vec<f32> = (0..k * n).map(|i| (i % 5) as f32 * 0.1).collect();
    let mut c = vec![0f32; m * n];
    let mut best = f64::MAX;
    for _ in 0..20 {
        let t = Instant::now();
        // SAFETY: the three buffers have the sizes and row-major strides passed.
        unsafe {
            gemm::gemm(
                m, n, k, c.as_mut_ptr(), 1, n as isize, false, a.as_ptr(), 1, k as isize,
                b.as_ptr(), 1, n as isize, 0.0, 1.0, false, false, false, par,
            );
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "  {label:<6} m {m:>4} n {n:>4} k {k:>4}: {:.3} ms, {:.1} GFLOP/s",
        best * 1e3,
        2.0 * (m * n * k) as f64 / best / 1e9
    );
}

fn main() {
    // fc1 of the small CNN (forward, input gradient, weight gradient), the weight gradient's
    // chunk GEMM and the forward's per-image GEMM of conv2, and fc1 of the wide CNN.
    for (m, n, k) in [
        (128, 128, 1568),
        (128, 1568, 128),
        (1568, 128, 128),
        (32, 144, 1568),
        (32, 196, 144),
        (128, 256, 3136),
    ] {
        bench(m, n, k, gemm::Parallelism::None, "1 thr");
        bench(m, n, k, gemm::Parallelism::Rayon(0), "rayon");
    }
}
