//! `semaphore silence add|list|expire` as a user runs them: the id printed by `add`, states shown by
//! `list`, `expire` ending silences, other entries and comments kept, an invalid matcher or file
//! refused without touching the file; and amtool's habits (issue 16 item 9): `--author` from `$USER`,
//! `--duration` (default 1h), an aligned table in the local time zone, `--output json`, `--quiet`,
//! several ids to `expire`, a missing file in one line.

use std::path::Path;
use std::process::{Command, Output};

fn silence(args: &[&str], file: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_semaphore"))
        .arg("silence")
        .args(args)
        .arg("--file")
        .arg(file)
        .env_remove("SEMAPHORE_SILENCES")
        .env_remove("USER")
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
            let mut columns = line.split_whitespace();
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
    assert!(
        listing.contains("alice       provider ticket 42"),
        "{listing}"
    );

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

    // expire edits the file in place: comments and every other entry survive.
    stdout(&silence(&["expire", &id], &file));
    let text = std::fs::read_to_string(&file).expect("read");
    assert!(text.starts_with(HAND_WRITTEN), "{text}");
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
    let both = silence(
        &[
            "add",
            "--match",
            "`true`",
            "--for",
            "1h",
            "--until",
            "2099-01-01T00:00:00Z",
        ],
        &file,
    );
    assert!(!both.status.success(), "--for and --until together");

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

/// `silence ARGS --file FILE` with extra environment variables.
fn silence_with(args: &[&str], file: &Path, envs: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_semaphore"))
        .arg("silence")
        .args(args)
        .arg("--file")
        .arg(file)
        .env_remove("SEMAPHORE_SILENCES")
        .envs(envs.iter().copied())
        .output()
        .expect("the binary runs")
}

fn json_list(file: &Path) -> Vec<serde_json::Value> {
    let text = stdout(&silence(&["list", "--all", "--output", "json"], file));
    serde_json::from_str(&text).expect("one JSON array")
}

fn seconds(row: &serde_json::Value, key: &str) -> i64 {
    let text = row[key].as_str().expect("a time");
    chrono::DateTime::parse_from_rfc3339(text)
        .expect("RFC 3339")
        .timestamp()
}

#[test]
fn add_takes_author_duration_and_comment_as_amtool_does() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("silences.yml");
    let user = [("USER", "carol")];
    stdout(&silence_with(
        &[
            "add",
            "-m",
            "`true`",
            "--author",
            "alice",
            "--duration",
            "90m",
            "--comment",
            "t-1",
        ],
        &file,
        &user,
    ));
    stdout(&silence_with(
        &["add", "--match", "`true`", "-c", "t-2"],
        &file,
        &user,
    ));
    stdout(&silence_with(
        &["add", "--match", "`true`", "-d", "2h"],
        &file,
        &[],
    ));
    let rows = json_list(&file);
    let fields = |row: &serde_json::Value| {
        (
            seconds(row, "ends_at") - seconds(row, "starts_at"),
            row["created_by"].clone(),
            row["comment"].clone(),
        )
    };
    let got: Vec<_> = rows.iter().map(fields).collect();
    assert_eq!(
        got,
        vec![
            (5400, "alice".into(), "t-1".into()),
            // amtool's defaults: the login name and one hour.
            (3600, "carol".into(), "t-2".into()),
            (7200, serde_json::Value::Null, serde_json::Value::Null),
        ]
    );
}

#[test]
fn list_is_an_aligned_table_in_the_local_zone_or_json_or_ids() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("silences.yml");
    std::fs::write(&file, HAND_WRITTEN).expect("write");
    let id = stdout(&silence(
        &["add", "-m", "`true`", "--until", "2099-01-01T00:00:00Z"],
        &file,
    ));
    let id = id.trim();
    let table = stdout(&silence_with(
        &["list", "--all"],
        &file,
        &[("TZ", "Asia/Kolkata")],
    ));
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4, "{table}");
    for column in ["STATE", "WHEN", "MATCHER", "CREATED BY", "COMMENT"] {
        let at = lines[0].find(column).expect("header column");
        for line in &lines[1..] {
            let before = line.get(..at).expect("long enough");
            assert!(
                before.ends_with("  ") && !line[at..].starts_with(' '),
                "{column} not aligned:\n{table}"
            );
        }
    }
    // 2099-01-01T00:00:00Z in India, with the offset.
    assert!(
        table.contains("until 2099-01-01 05:30:00 +05:30"),
        "{table}"
    );
    assert!(
        table.contains("ended 2020-01-01 05:30:00 +05:30"),
        "{table}"
    );

    let rows = json_list(&file);
    let ids: Vec<&str> = rows.iter().map(|r| r["id"].as_str().expect("id")).collect();
    assert_eq!(ids, vec!["weekend", "long-gone", id]);
    assert_eq!(rows[1]["state"], "expired");
    assert_eq!(rows[2]["ends_at"], "2099-01-01T00:00:00Z");
    assert_eq!(rows[0]["recurring"], true);

    let quiet = stdout(&silence(&["list", "--quiet"], &file));
    assert_eq!(quiet, format!("weekend\n{id}\n"));
}

#[test]
fn expire_takes_several_ids_and_keeps_the_comments() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("silences.yml");
    let written = format!(
        "{HAND_WRITTEN}# Added by hand for the cable work.\n- id: cable # ticket 7\n  matcher: \"rule == 'High loss'\"\n  ends_at: 2099-01-01T00:00:00Z # far away\n"
    );
    std::fs::write(&file, &written).expect("write");
    let out = stdout(&silence(
        &["expire", "weekend", "cable", "long-gone"],
        &file,
    ));
    assert_eq!(
        out,
        "weekend expired\ncable expired\nlong-gone had already expired\n"
    );
    let text = std::fs::read_to_string(&file).expect("read");
    for comment in [
        "# Maintenance windows, kept by hand.\n",
        "# Added by hand for the cable work.\n",
        "- id: cable # ticket 7\n",
        " # far away\n",
    ] {
        assert!(text.contains(comment), "{comment:?} lost:\n{text}");
    }
    assert!(states(&file, false).is_empty(), "{text}");

    // One unknown id: nothing is changed, each unknown id is named.
    let before = std::fs::read_to_string(&file).expect("read");
    let refused = silence(&["expire", "cable", "nope", "cabl"], &file);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("no silence `nope`"), "{stderr}");
    assert!(stderr.contains("no silence `cabl`") && stderr.contains("did you mean `cable`"));
    assert_eq!(std::fs::read_to_string(&file).expect("read"), before);
}

#[test]
fn a_missing_file_is_one_clear_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("nowhere.yml");
    for args in [&["list"][..], &["expire", "s-1"][..]] {
        let output = silence(args, &file);
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("no silences file {}", file.display())),
            "{stderr}"
        );
        assert!(!file.exists());
    }
}

#[test]
fn the_example_file_names_the_rulebook_it_silences() {
    let example = "examples/maintenance.silences.yml";
    let text = std::fs::read_to_string(example).expect("read");
    let named = text
        .split_whitespace()
        .find(|word| word.starts_with("rulebooks/"))
        .expect("the header names a rulebook");
    let events = format!(
        "examples/{}.events.jsonl",
        named
            .trim_start_matches("rulebooks/")
            .trim_end_matches(".yml")
    );
    let output = Command::new(env!("CARGO_BIN_EXE_semaphore"))
        .args([
            "rules",
            "test",
            named,
            "--events",
            &events,
            "--silences",
            example,
        ])
        .env(
            "SEMAPHORE_CHAT_WEBHOOK_URL",
            "https://chat.example.invalid/hook",
        )
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{named}: {stderr}");
    assert!(
        stderr.contains("silenced: 1"),
        "{named} is not what it silences: {stderr}"
    );
}
