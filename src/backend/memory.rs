//! The CPU backend's memory: freed activations stay in the process for the next op.
//!
//! burn allocates a new buffer for every op's output and frees it when the tensor drops, so a
//! training step frees and allocates the same few large buffers (activations, im2col columns,
//! gradients: up to ~30 MB each for the wide CNN) hundreds of times. With glibc's defaults those
//! above its dynamic mmap threshold are fresh mappings, and the heap's top is trimmed whenever
//! more than twice that lies free, so each step returns pages to the kernel and faults them back
//! in, zeroed: counted with `bench/kernel_counts.sh` (`perf stat`, 2-core Intel Xeon), the wide
//! CNN's PGD-10 step made 50,000 page faults, 54 `brk` calls and 9,300 TLB flushes, which the
//! other core must acknowledge by interrupt. Raising the mmap threshold above any buffer these
//! models allocate and the trim threshold above their working set keeps the freed memory in
//! the heap, where the next allocation of that size finds it: no faults, no flushes. A buffer
//! pool inside burn would do the same; glibc already is one once it stops giving pages back.
//! The cost: the process keeps its peak heap (up to `TRIM` free) until it exits.

/// Buffers up to this size come from the heap, not from a mapping of their own.
pub const MMAP_THRESHOLD: usize = 256 << 20;
/// Free memory the heap keeps at its top before giving any back to the kernel.
pub const TRIM: usize = 1 << 30;
/// Extra heap asked for whenever it grows, so that growth is rare.
pub const TOP_PAD: usize = 64 << 20;

/// The largest mmap threshold glibc up to 2.34 accepts (half its 64 MB arena heap): the
/// fallback where 256 MB is refused. It still covers every buffer of the 28×28 models.
pub const MMAP_THRESHOLD_OLD_GLIBC: usize = 32 << 20;

/// Keep freed buffers for reuse (glibc only; a no-op elsewhere). Call once, early in `main`.
/// A malloc setting the user made in the environment (`GLIBC_TUNABLES` naming malloc, or the
/// older `MALLOC_*_` variables) wins: nothing is changed then. True if all three were set.
pub fn keep_freed_memory() -> bool {
    !user_malloc_setting() && set()
}

/// Whether the environment sets glibc's malloc parameters itself.
fn user_malloc_setting() -> bool {
    std::env::vars_os().any(|(k, v)| {
        let k = k.to_string_lossy();
        (k == "GLIBC_TUNABLES" && v.to_string_lossy().contains("malloc"))
            || (k.starts_with("MALLOC_") && k.ends_with('_'))
    })
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn set() -> bool {
    // SAFETY: mallopt only changes the allocator's parameters; it is thread-safe in glibc.
    // Each parameter on its own, so that a refused one does not keep the others from being set.
    let opt = |param, value: usize| unsafe { libc::mallopt(param, value as libc::c_int) == 1 };
    let mmap = opt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        || opt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD_OLD_GLIBC);
    let trim = opt(libc::M_TRIM_THRESHOLD, TRIM);
    let pad = opt(libc::M_TOP_PAD, TOP_PAD);
    mmap && trim && pad
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn set() -> bool {
    false
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    /// Minor page faults of this thread so far (the test's buffer is allocated, touched and
    /// freed on its own thread, so tests running beside it do not count).
    fn faults() -> i64 {
        let mut u: libc::rusage = unsafe { std::mem::zeroed() };
        unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut u) };
        u.ru_minflt
    }

    /// Allocate and touch a buffer of `bytes`, then free it; the page faults that took.
    fn churn(bytes: usize) -> i64 {
        let before = faults();
        let mut v = vec![0u8; bytes];
        for i in (0..bytes).step_by(4096) {
            v[i] = 1;
        }
        std::hint::black_box(&v);
        drop(v);
        faults() - before
    }

    #[test]
    fn a_freed_buffer_is_reused_without_page_faults() {
        // 48 MB: above the largest mmap threshold glibc picks by itself (32 MB), so by default
        // each such buffer is a mapping of its own, returned on free and faulted in again page
        // by page (~12,000 faults a round). Nothing else in the tests calls `set`.
        let bytes = 48 << 20;
        let by_default: i64 = (0..3).map(|_| churn(bytes)).sum();
        assert!(super::set(), "mallopt refused the settings");
        churn(bytes); // the heap grows once
        let kept: i64 = (0..3).map(|_| churn(bytes)).sum();
        assert!(
            by_default > 10_000,
            "by default three rounds took only {by_default} faults: the premise does not hold"
        );
        assert!(
            kept < 200,
            "with freed memory kept, three more rounds took {kept} page faults (by default {by_default})"
        );
    }
}
