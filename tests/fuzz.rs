//! Fuzzing what users feed semaphore: generated and mutated rulebooks, silences files and event lines
//! go through what `rules check`, `rules test`, `silence list` and the `rules run` decoder call, in
//! process on a 2 MiB stack (a panic is caught and reported with its input), and a smaller number
//! through the real binary under a memory cap and a timeout (a stack overflow or an abort kills a
//! process, which catch_unwind cannot see). Nothing may panic, hang or die of a signal, and every
//! rejected file is rejected with located errors.
//!
//! `cargo test --test fuzz` runs a bounded number of cases; `SEMAPHORE_FUZZ_CASES=100000` runs that
//! many rulebook cases (the other targets scale with it) and `SEMAPHORE_FUZZ_SEED=N` another seed.
//! Failing inputs are written to `target/fuzz-failures/`.

#[path = "common/fuzz/mod.rs"]
mod harness;

use harness::cases::{Case, case_rng, pick_events, pick_text, seeds};
use harness::checks::{check_and_test, decode_lines, list_and_rewrite};
use harness::process::run_binary;
use harness::{Input, documents};

#[test]
fn rulebooks_check_and_test_without_panics_and_errors_are_located() {
    let cases = harness::cases(harness::DEFAULT_RULEBOOK_CASES);
    harness::announce("rulebook", cases);
    let failures: Vec<String> = (0..cases)
        .filter_map(|index| {
            let mut rng = case_rng(1, index);
            let case = Case::new(&mut rng);
            let inputs = case.inputs();
            harness::run_case("rulebook", index, inputs, move || check_and_test(case, rng)).err()
        })
        .collect();
    harness::assert_no_failures("rulebook", cases, &failures);
}

#[test]
fn silences_files_list_and_rewrite_without_panics() {
    let cases = harness::cases(1_500);
    harness::announce("silences", cases);
    let failures: Vec<String> = (0..cases)
        .filter_map(|index| {
            let mut rng = case_rng(2, index);
            let source = pick_text(&mut rng, documents::silences, &seeds().silences);
            let inputs = vec![Input {
                name: "silences.yml",
                bytes: source.clone().into_bytes(),
            }];
            harness::run_case("silences", index, inputs, move || {
                list_and_rewrite(source, rng)
            })
            .err()
        })
        .collect();
    harness::assert_no_failures("silences", cases, &failures);
}

#[test]
fn event_lines_decode_without_panics() {
    let cases = harness::cases(2_000);
    harness::announce("events", cases);
    let failures: Vec<String> = (0..cases)
        .filter_map(|index| {
            let mut rng = case_rng(3, index);
            let bytes = pick_events(&mut rng);
            let inputs = vec![Input {
                name: "events.jsonl",
                bytes: bytes.clone(),
            }];
            harness::run_case("events", index, inputs, move || decode_lines(bytes)).err()
        })
        .collect();
    harness::assert_no_failures("events", cases, &failures);
}

#[test]
fn the_binary_never_dies_of_a_signal_or_hangs() {
    let cases = harness::cases(100);
    harness::announce("binary", cases);
    let mut failures = Vec::new();
    for index in 0..cases {
        let mut rng = case_rng(4, index);
        let case = Case::new(&mut rng);
        let dir = harness::in_progress("binary");
        harness::write_inputs(&dir, &case.inputs());
        let explain = if rng.one_in(2) {
            "--explain"
        } else {
            "--verbose"
        };
        let runs: [&[&str]; 3] = [
            &["rules", "check", "rulebook.yml"],
            &[
                "rules",
                "test",
                "rulebook.yml",
                "--events",
                "events.jsonl",
                "--silences",
                "silences.yml",
                explain,
                "--until",
                "2026-01-16T00:00:00Z",
            ],
            &["silence", "list", "--file", "silences.yml", "--all"],
        ];
        for args in runs {
            if let Err(problem) = run_binary(&dir, args) {
                let saved = harness::save_failure("binary", index, &case.inputs());
                failures.push(format!(
                    "binary case {index}: {problem}\ninput in {}",
                    saved.display()
                ));
            }
        }
    }
    harness::assert_no_failures("binary", cases, &failures);
}
