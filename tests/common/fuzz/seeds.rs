//! The repo's own inputs, as material for the mutator: the shipped rulebooks (`rulebooks/`, and
//! the copies `semaphore demo` embeds), the YAML examples of the docs, the example silences files,
//! the example event files and the recorded Meraki responses of `tests/fixtures/` (one element per
//! line, as a topic would carry them).

use std::path::{Path, PathBuf};

pub struct Seeds {
    pub rulebooks: Vec<String>,
    pub silences: Vec<String>,
    /// JSON-lines files.
    pub events: Vec<Vec<u8>>,
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The files in `dir` whose name ends with `suffix`, sorted so that a seed replays the same run.
fn files(dir: &str, suffix: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(repo().join(dir))
        .unwrap_or_else(|err| panic!("{dir}: {err}"))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.to_string_lossy().ends_with(suffix))
        .collect();
    found.sort();
    found
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// The bodies of the ```yaml blocks of a Markdown file.
fn yaml_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim_start()) {
            (None, fence) if fence.starts_with("```yaml") => current = Some(String::new()),
            (Some(_), "```") => blocks.extend(current.take()),
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

pub fn load() -> Seeds {
    let mut rulebooks: Vec<String> = files("rulebooks", ".yml").iter().map(|p| read(p)).collect();
    rulebooks.extend(
        semaphore::demo::rulebooks::SHIPPED
            .iter()
            .map(|(_, text)| (*text).to_owned()),
    );
    rulebooks.extend(
        files("tests/fixtures/actions", ".yml")
            .iter()
            .map(|p| read(p)),
    );
    for doc in ["docs/rulebooks.md", "docs/actions.md"] {
        rulebooks.extend(yaml_blocks(&read(&repo().join(doc))));
    }
    let mut silences: Vec<String> = files("examples", ".silences.yml")
        .iter()
        .map(|p| read(p))
        .collect();
    silences.extend(
        yaml_blocks(&read(&repo().join("docs/silences.md")))
            .into_iter()
            .filter(|block| block.contains("matcher")),
    );
    let mut events: Vec<Vec<u8>> = files("examples", ".jsonl")
        .iter()
        .map(|p| read(p).into_bytes())
        .collect();
    events.extend(
        files("tests/fixtures/meraki", ".json")
            .iter()
            .map(|p| as_lines(&read(p))),
    );
    assert!(
        rulebooks.len() >= 10 && !silences.is_empty() && events.len() >= 5,
        "the seed files moved: {} rulebooks, {} silences, {} event files",
        rulebooks.len(),
        silences.len(),
        events.len()
    );
    Seeds {
        rulebooks,
        silences,
        events,
    }
}

/// A recorded response as JSON lines: each element of a list, or the one object.
fn as_lines(json: &str) -> Vec<u8> {
    let value: serde_json::Value = serde_json::from_str(json).expect("a fixture is JSON");
    let items = match value {
        serde_json::Value::Array(items) => items,
        other => vec![other],
    };
    items
        .iter()
        .map(|item| format!("{item}\n"))
        .collect::<String>()
        .into_bytes()
}
