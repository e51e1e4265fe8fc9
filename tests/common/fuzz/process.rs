//! Running the real binary on a case: under `prlimit` (util-linux) for a memory cap, with a
//! timeout, telling how it ended when that was not exit status 0 or 1. A stack overflow or an
//! abort kills a process, which `catch_unwind` in process cannot see.

use std::os::unix::process::ExitStatusExt as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A process's address space: far above what any case needs (an alias bomb, which the parser
/// stops, peaks at about 120 MB), low enough that a runaway allocation fails (and aborts the
/// process, which the test reports) instead of swapping.
const MEMORY_LIMIT: &str = "--as=1073741824";
const PROCESS_TIME_LIMIT: Duration = Duration::from_secs(30);

/// Runs the binary with `args` under `prlimit`; `Err` says how it ended when that was not
/// exit status 0 or 1 (the documented ones for an invalid input), with the end of its stderr.
pub fn run_binary(dir: &Path, args: &[&str]) -> Result<(), String> {
    let stderr_path = dir.join("stderr");
    let stderr = std::fs::File::create(&stderr_path).expect("stderr file");
    let mut child = Command::new("prlimit")
        .args([MEMORY_LIMIT, "--"])
        .arg(env!("CARGO_BIN_EXE_semaphore"))
        .args(args)
        .current_dir(dir)
        .env("HOME", "/home/fuzz")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("prlimit runs (util-linux)");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the process") {
            break status;
        }
        if started.elapsed() > PROCESS_TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "{args:?} still running after {PROCESS_TIME_LIMIT:?}"
            ));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    // The documented exits: 0 clean, 1 a file that does not load, 3 `rules test` ran with errors.
    if matches!(status.code(), Some(0 | 1 | 3)) {
        return Ok(());
    }
    let log = std::fs::read(&stderr_path).unwrap_or_default();
    let tail = String::from_utf8_lossy(&log[log.len().saturating_sub(2_000)..]).into_owned();
    let how = match status.signal() {
        Some(signal) => format!("was killed by signal {signal}"),
        None => format!("exited with {status}"),
    };
    Err(format!("{args:?} {how}; stderr ends:\n{tail}"))
}
