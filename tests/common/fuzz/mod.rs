//! The fuzzing harness of `tests/fuzz.rs`: a seeded random source, the case counts (bounded by
//! default, longer through `SEMAPHORE_FUZZ_CASES`), and a runner that runs one case on a thread
//! with tokio's worker stack size, catches its panic, notices when it takes too long, and writes
//! the input of every failure to `target/fuzz-failures/` so it can be replayed. What the cases are
//! made of: [`rulebook`], [`actions`], [`documents`] and [`grammar`] (generated input, rendered
//! through [`yaml`]), [`mutate`] (byte-level damage) and [`seeds`] (the repo's own files).

pub mod actions;
pub mod cases;
pub mod checks;
pub mod documents;
pub mod grammar;
pub mod mutate;
pub mod process;
pub mod rulebook;
pub mod seeds;
pub mod yaml;

use std::any::Any;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// tokio's worker threads, where `rules run` evaluates, have 2 MiB of stack; `rules check` and
/// `rules test` run on the main thread, which has more.
pub const WORKER_STACK: usize = 2 * 1024 * 1024;

/// A case that takes longer than this is reported as a hang (debug build, shared 2-core machine).
pub const CASE_TIME_LIMIT: Duration = Duration::from_secs(20);

/// splitmix64: small, fast and the same sequence on every machine, so a seed replays a run. It
/// also carries how often the generators choose something invalid.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
    /// One choice in this many is a wrong one; 0: none, so that the document is valid and its
    /// rules reach the engine.
    pub mischief: usize,
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng {
            state: seed,
            mischief: 0,
        }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// A number in `low..=high`.
    pub fn between(&mut self, low: usize, high: usize) -> usize {
        low + self.below(high - low + 1)
    }

    /// True one time in `n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// Whether to do something wrong now (see [`Rng::mischief`]).
    pub fn mischief(&mut self) -> bool {
        self.mischief > 0 && self.one_in(self.mischief)
    }

    /// One of `good`, or, when [`Rng::mischief`] says so, one of `bad`.
    pub fn choose<'a, T>(&mut self, good: &'a [T], bad: &'a [T]) -> &'a T {
        if self.mischief() {
            self.pick(bad)
        } else {
            self.pick(good)
        }
    }
}

/// How many cases a target runs: `default` in a normal `cargo test`, scaled up by
/// `SEMAPHORE_FUZZ_CASES` (the number of rulebook cases; other targets keep their ratio to it).
pub fn cases(default: usize) -> usize {
    match std::env::var("SEMAPHORE_FUZZ_CASES") {
        Ok(text) => {
            let wanted: usize = text
                .trim()
                .parse()
                .expect("SEMAPHORE_FUZZ_CASES is a number of cases");
            (wanted * default / DEFAULT_RULEBOOK_CASES).max(1)
        }
        Err(_) => default,
    }
}

/// The rulebook target's default count, the unit `SEMAPHORE_FUZZ_CASES` is given in.
pub const DEFAULT_RULEBOOK_CASES: usize = 600;

/// The run's seed: `SEMAPHORE_FUZZ_SEED` or a fixed one, so that a plain `cargo test` is
/// reproducible and a long run can explore with another seed.
pub fn seed() -> u64 {
    std::env::var("SEMAPHORE_FUZZ_SEED")
        .ok()
        .map(|text| {
            text.trim()
                .parse()
                .expect("SEMAPHORE_FUZZ_SEED is a number")
        })
        .unwrap_or(0x5e3a_9407_e5c0_0013)
}

/// One input file of a case: its name in the failure directory and its bytes.
pub struct Input {
    pub name: &'static str,
    pub bytes: Vec<u8>,
}

/// Runs `case` on a fresh thread with [`WORKER_STACK`] of stack. `Err` describes a panic or a
/// case over [`CASE_TIME_LIMIT`] and names the directory its `inputs` were written to. A hung
/// thread cannot be stopped; it is left behind and the test fails. The inputs are first written to
/// [`in_progress`], so that a case that aborts the whole process (a stack overflow) leaves them there.
pub fn run_case(
    target: &str,
    index: usize,
    inputs: Vec<Input>,
    case: impl FnOnce() + Send + 'static,
) -> Result<(), String> {
    write_inputs(&in_progress(target), &inputs);
    let (done, finished) = mpsc::sync_channel(1);
    let started = Instant::now();
    std::thread::Builder::new()
        .name(format!("{target}-{index}"))
        .stack_size(WORKER_STACK)
        .spawn(move || {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(case));
            // The receiver is gone only when the case already timed out and was reported.
            let _ = done.send(outcome.map_err(|payload| panic_text(&*payload)));
        })
        .expect("a thread for the case");
    let problem = match finished.recv_timeout(CASE_TIME_LIMIT) {
        Ok(Ok(())) => return Ok(()),
        Ok(Err(message)) => format!("panicked: {message}"),
        Err(_) => format!("still running after {:?}", started.elapsed()),
    };
    let directory = save_failure(target, index, &inputs);
    Err(format!(
        "{target} case {index} (seed {}) {problem}; input in {}",
        seed(),
        directory.display()
    ))
}

fn panic_text(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(a panic without a message)".to_owned())
}

fn failures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR lies inside the target directory")
        .join("fuzz-failures")
}

/// Where the running case of `target` keeps its inputs: what is left there after the test
/// process died is the case that killed it.
pub fn in_progress(target: &str) -> PathBuf {
    failures_dir().join(format!("{target}-{}-running", seed()))
}

/// Writes each input into `directory` as a file of its name.
pub fn write_inputs(directory: &Path, inputs: &[Input]) {
    std::fs::create_dir_all(directory).expect("create the failure directory");
    for input in inputs {
        std::fs::write(directory.join(input.name), &input.bytes).expect("write a failing input");
    }
}

/// `target/fuzz-failures/<target>-<seed>-<case>/`, holding each input as a file.
pub fn save_failure(target: &str, index: usize, inputs: &[Input]) -> PathBuf {
    let directory = failures_dir().join(format!("{target}-{}-{index}", seed()));
    write_inputs(&directory, inputs);
    directory
}

/// A line on the process's stderr, which the test harness does not capture: captured output is
/// lost when a case aborts the process, and this says where that case's input is.
fn say(line: String) {
    let _ = std::io::Write::write_all(&mut std::io::stderr(), format!("{line}\n").as_bytes());
}

/// Says what a target is about to run.
pub fn announce(target: &str, cases: usize) {
    say(format!(
        "fuzz {target}: {cases} cases, seed {}; a case that kills the process leaves its input in {}",
        seed(),
        in_progress(target).display()
    ));
}

/// Fails the test with every failure found, after all cases ran; the last case's in-progress
/// copy goes, since that case did not kill the process.
pub fn assert_no_failures(target: &str, cases: usize, failures: &[String]) {
    let _ = std::fs::remove_dir_all(in_progress(target));
    say(format!(
        "fuzz {target}: {cases} cases, {} failed",
        failures.len()
    ));
    assert!(
        failures.is_empty(),
        "{target}: {} of {cases} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
