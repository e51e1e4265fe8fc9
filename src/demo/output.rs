//! The output sink the demo gives `print_event` and `debug`: instead of writing straight to stdout
//! (where pretty-printed events would break the one-line-per-alert view), every piece the action
//! writes (one write and flush per action) becomes one compact line sent through a bounded channel.
//! JSON documents are re-rendered without whitespace; other text has its lines joined.

use std::io::{self, Write};

use serde_json::Value;
use tokio::sync::mpsc;

/// Collects one action's text until `flush`, then sends it as lines.
pub struct LineOutput {
    buffer: Vec<u8>,
    lines: mpsc::Sender<String>,
}

impl LineOutput {
    pub fn new(lines: mpsc::Sender<String>) -> Self {
        Self {
            buffer: Vec::new(),
            lines,
        }
    }
}

impl Write for LineOutput {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    /// Called from an async task holding a lock, so it must not wait: when the reader is behind,
    /// the line is dropped and the action fails with the error, as a full disk would make it fail.
    fn flush(&mut self) -> io::Result<()> {
        let text = String::from_utf8_lossy(&std::mem::take(&mut self.buffer)).into_owned();
        for line in compact(&text) {
            self.lines
                .try_send(line)
                .map_err(|err| io::Error::other(format!("demo output: {err}")))?;
        }
        Ok(())
    }
}

/// Each JSON document on one line; text that is not JSON as one line.
pub fn compact(text: &str) -> Vec<String> {
    let documents: Result<Vec<Value>, _> = serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .collect();
    match documents {
        Ok(documents) if !documents.is_empty() => documents.iter().map(Value::to_string).collect(),
        _ => {
            let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
            if joined.is_empty() {
                Vec::new()
            } else {
                vec![joined]
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pretty_json_documents_become_one_line_each() {
        let text = "{\n  \"mac\": \"aa\",\n  \"os\": \"HP JetDirect\"\n}\n{\"mac\": \"bb\"}\n";
        assert_eq!(
            compact(text),
            vec![r#"{"mac":"aa","os":"HP JetDirect"}"#, r#"{"mac":"bb"}"#]
        );
    }

    #[test]
    fn plain_text_is_joined_into_one_line() {
        assert_eq!(
            compact("Q2AA: wan1 190 ms,\n wan2 200 ms\n"),
            vec!["Q2AA: wan1 190 ms, wan2 200 ms"]
        );
        assert!(compact("\n").is_empty());
    }

    #[test]
    fn a_flush_sends_what_was_written_since_the_last() {
        let (sender, mut lines) = mpsc::channel(4);
        let mut output = LineOutput::new(sender);
        output.write_all(b"{\"a\":\n 1}\n").expect("write");
        output.flush().expect("flush");
        output.flush().expect("an empty flush sends nothing");
        assert_eq!(lines.try_recv().ok(), Some(r#"{"a":1}"#.to_owned()));
        assert!(lines.try_recv().is_err());
    }
}
