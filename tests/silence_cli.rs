//! `semaphore silence add|list|expire` as a user runs them: the id printed by `add`, states shown by
//! `list`, `expire` ending a silence, other entries (and, for `add`, comments) kept, an invalid
//! matcher or file refused without touching the file.

use std::path::Path;
use std::process::{Command, Output};

fn silence(args: &[&str], file: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_semaphore"))
        .arg("silence")
        .args(args)
        .arg("--file")
        .arg(file)
        .env_remove("SEMAPHORE_SILENCES")
        .output()
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).expect("UTF-8")
}

/// `list` rows as (id, state).
fn states(file: &Path, all: bool) -> Vec<(String, String)> {
    let args: &[&str] = if all { &["list", "--all"] } else { &["list"] };
    stdout(&silence(args, file))
        .lines()
        .skip(1)
        .map(|line| {
            let mut columns = line.split('\t');
            let id = columns.next().expect("id").to_owned();
            (id, columns.next().expect("state").to_owned())
        })
        .collect()
}

const HAND_WRITTEN: &str = "# Maintenance windows, kept by hand.\n- id: weekend\n  matcher: \"event.networkId == 'N_1'\"\n  every: {days: [sat], from: \"22:00\", to: \"02:00\", timezone: Europe/Zurich}\n  comment: ISP work\n- id: long-gone\n  matcher: \"`true`\"\n  ends_at: 2020-01-01T00:00:00Z\n";

#[test]
fn add_list_expire_round_trip() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("silences.yml");
    let id = stdout(&silence(
        &[
            "add",
            "--match",
            "rule == 'High loss' && event.networkId == 'N_2'",
            "--for",
            "2h",
            "--comment",
            "provider ticket 42",
            "--created-by",
            "alice",
        ],
        &file,
    ))
    .trim()
    .to_owned();
    assert!(id.starts_with("s-"), "{id}");
    assert_eq!(
        states(&file, false),
        vec![(id.clone(), "active".to_owned())]
    );
    let listing = stdout(&silence(&["list"], &file));
    assert!(listing.contains("provider ticket 42\talice"), "{listing}");

    let expired = stdout(&silence(&["expire", &id], &file));
    assert_eq!(expired.trim(), format!("{id} expired"));
    assert!(states(&file, false).is_empty());
    assert_eq!(
        states(&file, true),
        vec![(id.clone(), "expired".to_owned())]
    );
    // The file stays valid for rules run/test.
    semaphore::cli::files::load_silences(&file).expect("valid after expire");

    let unknown = silence(&["expire", "s-nope"], &file);
    assert!(!unknown.status.success());
}

#[test]
fn add_appends_and_keeps_other_entries_and_comments() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("silences.yml");
    std::fs::write(&file, HAND_WRITTEN).expect("write");
    let id = stdout(&silence(
        &[
            "add",
            "--match",
            "`true`",
            "--until",
            "2099-01-01T00:00:00Z",
        ],
        &file,
    ))
    .trim()
    .to_owned();
    let text = std::fs::read_to_string(&file).expect("read");
    assert!(text.starts_with(HAND_WRITTEN), "{text}");
    assert_eq!(
        states(&file, true),
        vec![
            ("weekend".to_owned(), "pending".to_owned()),
            ("long-gone".to_owned(), "expired".to_owned()),
            (id.clone(), "active".to_owned()),
        ]
    );
    // No temporary file is left next to it.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");

    // expire rewrites the file: every other entry survives with its fields.
    stdout(&silence(&["expire", &id], &file));
    let loaded = semaphore::cli::files::load_silences(&file).expect("valid");
    let ids: Vec<&str> = loaded.set.silences.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, vec!["weekend", "long-gone", id.as_str()]);
    let weekend = &loaded.set.silences[0];
    assert_eq!(weekend.comment.as_deref(), Some("ISP work"));
    assert!(weekend.every.is_some());
    assert_eq!(weekend.matcher.source(), "event.networkId == 'N_1'");
}

#[test]
fn an_invalid_matcher_or_file_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("silences.yml");
    let bad = silence(&["add", "--match", "event.x ==", "--for", "1h"], &file);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--match: invalid JMESPath"));
    let root = silence(
        &["add", "--match", "meta.topic == 'x'", "--for", "1h"],
        &file,
    );
    assert!(!root.status.success());
    assert!(
        String::from_utf8_lossy(&root.stderr).contains("`meta` is not part of the document"),
        "{}",
        String::from_utf8_lossy(&root.stderr)
    );
    assert!(!file.exists(), "nothing written for a refused silence");
    let neither = silence(&["add", "--match", "`true`"], &file);
    assert!(!neither.status.success(), "--for or --until is required");

    let broken = "- id: a\n  matcher: \"`true`\"\n  ends_at: someday\n";
    std::fs::write(&file, broken).expect("write");
    let refused = silence(&["add", "--match", "`true`", "--for", "1h"], &file);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains(&format!(
            "{}:3:12: `someday` is not an RFC 3339 time",
            file.display()
        )),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&file).expect("read"), broken);
}
