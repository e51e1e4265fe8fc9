//! The user's files on disk, for the commands: the errors of reading a rulebook, and reading,
//! validating and atomically rewriting the silences file. Parsing and rendering are the pure core's
//! (`rulebook::compile`, `suppress::file`); this module is the I/O around them.

use std::io::Write as _;
use std::path::Path;

use crate::rulebook::Diagnostics;
use crate::suppress::file::{self, SilenceFile};

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(Diagnostics),
    /// `--vars`/`--env-vars` that cannot be used.
    #[error("{message}")]
    Vars { message: String },
}

#[derive(Debug, thiserror::Error)]
pub enum SilenceFileError {
    #[error("cannot read the silences file {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write the silences file {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(Diagnostics),
}

/// Reads and validates a silences file.
pub fn load_silences(path: &Path) -> Result<SilenceFile, SilenceFileError> {
    let source = read_silences(path)?;
    file::parse(&path.display().to_string(), &source).map_err(SilenceFileError::Invalid)
}

/// The silences file's text; used by the reloader to notice changes.
pub fn read_silences(path: &Path) -> Result<String, SilenceFileError> {
    std::fs::read_to_string(path).map_err(|source| SilenceFileError::Read {
        path: path.display().to_string(),
        source,
    })
}

/// Replaces `path` with `text` through a temporary file in the same directory and a rename, so that
/// readers (a running `rules run`) see the old or the new file, never a partial one.
pub fn write_silences(path: &Path, text: &str) -> Result<(), SilenceFileError> {
    let fail = |source| SilenceFileError::Write {
        path: path.display().to_string(),
        source,
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "silences".to_owned());
    let temp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let written = std::fs::File::create(&temp).and_then(|mut file| {
        file.write_all(text.as_bytes())?;
        file.sync_all()
    });
    if let Err(err) = written.and_then(|()| std::fs::rename(&temp, path)) {
        // Best effort: the temporary file is ours and useless now.
        let _ = std::fs::remove_file(&temp);
        return Err(fail(err));
    }
    Ok(())
}
