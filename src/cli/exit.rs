//! What every command shares at its end: exit codes, one-paragraph errors, and the stop flag
//! that turns Ctrl-C, SIGTERM and SIGHUP into a clean stop with a checkpoint.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// Exit code of a run stopped by a signal (as shells report SIGINT).
pub const EXIT_INTERRUPTED: i32 = 130;
/// Exit code of the lab started without a terminal.
pub const EXIT_NOT_A_TERMINAL: i32 = 2;

/// Print an error as one paragraph and give the exit code.
pub fn fail(msg: impl std::fmt::Display) -> i32 {
    use std::io::Write;
    // Not eprintln: a closed terminal must not turn an error into a panic.
    let _ = writeln!(std::io::stderr(), "error: {msg}");
    1
}

/// An error with this text, for a command to return (`main` prints it through `fail`).
pub fn failure(msg: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("{msg}")
}

/// A command's end: its exit code, or its error printed as one paragraph (exit 1), the chain of
/// contexts included.
pub fn exit_code(r: anyhow::Result<i32>) -> i32 {
    match r {
        Ok(code) => code,
        Err(e) => fail(format!("{e:#}")),
    }
}

/// Whether `sig` was ignored when this process started (its disposition is still SIG_IGN).
fn inherited_ignore(sig: i32) -> bool {
    // SAFETY: a query only (no new action), into a zeroed struct this function owns.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(sig, std::ptr::null(), &mut old) == 0 && old.sa_sigaction == libc::SIG_IGN
    }
}

/// Set by the first SIGINT, SIGTERM or SIGHUP; a second SIGINT ends the process at once.
pub fn stop_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    for sig in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        // Only a second Ctrl-C is a person asking to quit at once. A TERM or HUP after the
        // first signal is a machine repeating itself (Slurm's scancel signals the task's shell,
        // which forwards it, and duplab itself): the checkpoint goes on.
        // A SIGHUP this process was started with ignored (`nohup duplab train`) stays
        // ignored: the user asked for the run to outlive the terminal.
        if sig == signal_hook::consts::SIGHUP && inherited_ignore(sig) {
            continue;
        }
        if sig == signal_hook::consts::SIGINT {
            let _ = signal_hook::flag::register_conditional_shutdown(
                sig,
                EXIT_INTERRUPTED,
                flag.clone(),
            );
        }
        let _ = signal_hook::flag::register(sig, flag.clone());
    }
    flag
}
