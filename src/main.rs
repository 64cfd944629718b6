fn main() {
    // Die quietly on a closed pipe (`duplab runs ls | head`) like other Unix tools, instead of
    // panicking on the next print.
    // SAFETY: setting a signal disposition to its default before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // Before any thread: the Vulkan drivers' headless stderr noise, answered once for all.
    duplab::backend::quiet_driver_noise();
    // Freed activations stay in the heap for the next op (page faults per step: see the module).
    duplab::backend::keep_freed_memory();
    std::process::exit(duplab::cli::main());
}
