//! The local dead-letter directory: where a dead letter the broker refused for good (too large,
//! invalid, not allowed) is kept instead, so that its record may still count as done. Each letter
//! becomes two files named after it: `NAME.value`, the exact value bytes, and `NAME.json`, what the
//! dead letter would have said (topic, key, headers, error, why it was refused, size, SHA-256).
//! Both are written to a temporary file, synced, renamed into place and the directory synced, so a
//! crash leaves either the whole file or none; writing the same letter again replaces it.

use std::fs::{self, DirBuilder, File};
use std::io::Write as _;
use std::os::unix::fs::DirBuilderExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::letter::{Letter, sha256_hex};

/// One spool write (both files and the syncs) may take this long before it counts as failed.
const WRITE_TIMEOUT: Duration = Duration::from_secs(60);

/// The dead-letter directory.
#[derive(Debug, Clone)]
pub struct Spool {
    dir: Arc<PathBuf>,
}

/// Where a value was kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Spooled {
    pub dir: PathBuf,
    /// The value file's name inside `dir`.
    pub file: String,
    pub size: usize,
    pub sha256: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("cannot create the dead-letter directory {} (--dead-letter-dir): {source}", dir.display())]
    Open {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("writing to {} did not finish within {}s", dir.display(), WRITE_TIMEOUT.as_secs())]
    Timeout { dir: PathBuf },
    #[error("the spool writer stopped: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl Spool {
    /// Creates `dir` (owner-only: values may hold what the telemetry holds) when it is missing.
    pub fn open(dir: &Path) -> Result<Spool, SpoolError> {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|source| SpoolError::Open {
                dir: dir.to_owned(),
                source,
            })?;
        Ok(Spool {
            dir: Arc::new(dir.to_owned()),
        })
    }

    /// Writes `letter`'s value and its description, `refused` saying why the broker would not take
    /// it. The disk work runs on a blocking thread; the value is copied for it.
    pub async fn keep(&self, letter: &Letter<'_>, refused: &str) -> Result<Spooled, SpoolError> {
        let value = letter.value.unwrap_or_default().to_vec();
        let description = describe(letter, refused);
        let dir = Arc::clone(&self.dir);
        let name = letter.spool_name.clone();
        let task = tokio::task::spawn_blocking(move || write(&dir, &name, &value, description));
        match tokio::time::timeout(WRITE_TIMEOUT, task).await {
            Ok(written) => written?,
            Err(_) => Err(SpoolError::Timeout {
                dir: self.dir.to_path_buf(),
            }),
        }
    }
}

/// What the dead letter would have said, without its value.
fn describe(letter: &Letter<'_>, refused: &str) -> Value {
    let headers: Vec<Value> = letter
        .headers
        .iter()
        .map(|(key, value)| json!([key, bytes(value)]))
        .collect();
    json!({
        "topic": letter.topic,
        "origin": letter.origin,
        "kind": letter.kind,
        "error": letter.error,
        "refused": refused,
        "key": letter.key.map(bytes),
        "headers": headers,
    })
}

/// Bytes as a JSON string when they are UTF-8, else as `{"hex": "..."}`.
fn bytes(value: &[u8]) -> Value {
    match std::str::from_utf8(value) {
        Ok(text) => Value::String(text.to_owned()),
        Err(_) => json!({"hex": value.iter().map(|b| format!("{b:02x}")).collect::<String>()}),
    }
}

fn write(
    dir: &Path,
    name: &str,
    value: &[u8],
    mut description: Value,
) -> Result<Spooled, SpoolError> {
    let spooled = Spooled {
        dir: dir.to_owned(),
        file: format!("{name}.value"),
        size: value.len(),
        sha256: sha256_hex(value),
    };
    description["value"] = json!({
        "file": spooled.file,
        "size": spooled.size,
        "sha256": spooled.sha256,
    });
    write_atomically(dir, &spooled.file, value)?;
    write_atomically(
        dir,
        &format!("{name}.json"),
        description.to_string().as_bytes(),
    )?;
    // The renames are durable only once the directory itself is synced.
    File::open(dir)
        .and_then(|opened| opened.sync_all())
        .map_err(failed(dir))?;
    Ok(spooled)
}

/// `bytes` to `dir/file` through a synced temporary file renamed over it.
fn write_atomically(dir: &Path, file: &str, bytes: &[u8]) -> Result<(), SpoolError> {
    let target = dir.join(file);
    let temporary = dir.join(format!(".{file}.tmp"));
    let mut out = File::create(&temporary).map_err(failed(&temporary))?;
    out.write_all(bytes)
        .and_then(|()| out.sync_all())
        .map_err(failed(&temporary))?;
    fs::rename(&temporary, &target).map_err(failed(&target))
}

fn failed(path: &Path) -> impl FnOnce(std::io::Error) -> SpoolError {
    let path = path.to_owned();
    move |source| SpoolError::Io { path, source }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::{Reason, SourceRecord};

    #[tokio::test]
    async fn the_value_is_kept_byte_for_byte_with_its_description() {
        let dir = tempfile::tempdir().expect("temp dir");
        let spool_dir = dir.path().join("nested/dead-letters");
        let spool = Spool::open(&spool_dir).expect("created");
        let value: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
        let record = SourceRecord {
            topic: "t".into(),
            partition: 0,
            offset: 7,
            key: Some(vec![0xfe, 0x01]),
            value: Some(value.clone()),
            timestamp: None,
            headers: vec![("h".into(), b"v".to_vec())],
        };
        let reason = Reason::Undecodable("not JSON".into());
        let letter = Letter::of_record(&record, &reason, "t.dlq".into());
        let spooled = spool.keep(&letter, "too large").await.expect("written");
        let kept = fs::read(spool_dir.join(&spooled.file)).expect("value file");
        assert_eq!(kept, value);
        assert_eq!(spooled.sha256, sha256_hex(&value));
        let description = fs::read(spool_dir.join(format!("{}.json", letter.spool_name)))
            .expect("description file");
        let description: Value = serde_json::from_slice(&description).expect("JSON");
        assert_eq!(description["key"], json!({"hex": "fe01"}));
        assert_eq!(description["refused"], "too large");
        assert_eq!(description["value"]["size"], 70_000);
        assert_eq!(description["headers"][0], json!(["h", "v"]));
        let leftovers: Vec<_> = fs::read_dir(spool_dir)
            .expect("listable")
            .filter_map(Result::ok)
            .filter(|entry| entry.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn a_directory_that_cannot_be_made_is_an_error_naming_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let blocker = dir.path().join("file");
        fs::write(&blocker, b"").expect("file");
        let err = Spool::open(&blocker.join("spool")).expect_err("under a file");
        let text = err.to_string();
        assert!(text.contains("dead-letter directory"), "{text}");
        assert!(text.contains("file/spool"), "{text}");
    }
}
