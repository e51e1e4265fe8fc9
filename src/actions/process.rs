//! Running one external program for `command` and `run_playbook`: an argv list executed directly
//! (never through a shell), in its own process group, stdin closed, stdout and stderr captured
//! (their last bytes kept, for logs and failure reasons), under a timeout after which the whole
//! group is killed. A non-zero exit is a failure that carries the output's tail. It does not decide
//! what to run or whether to retry.

use std::fmt;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::{Child, Command};

use super::retry::Retryable;

/// How long killing a timed-out process group and reaping it may take.
const KILL_TIMEOUT: Duration = Duration::from_secs(5);
/// Bytes of output quoted in a failure reason (the log line gets the whole captured tail).
const REASON_OUTPUT: usize = 1024;

/// Why a program did not run to a successful end.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("cannot start `{program}`: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("`{program}` did not finish within {timeout:?} and was killed")]
    Timeout { program: String, timeout: Duration },
    #[error("waiting for `{program}` failed: {source}")]
    Wait {
        program: String,
        source: std::io::Error,
    },
    #[error("`{program}` exited with {status}{}", quote(output))]
    Exit {
        program: String,
        status: ExitStatus,
        /// The tail of stderr, or of stdout when stderr is empty.
        output: String,
    },
}

/// What to run.
#[derive(Debug, Clone, PartialEq)]
pub struct Program {
    /// The program and its arguments; `argv[0]` is looked up in `PATH` unless it is a path.
    pub argv: Vec<String>,
    pub cwd: Option<PathBuf>,
    /// Added to the inherited environment.
    pub env: Vec<(String, String)>,
    pub timeout: Duration,
}

/// The end of a captured stream.
#[derive(Debug, Clone, Default)]
pub struct Captured {
    pub tail: String,
    /// Bytes the stream carried in total (more than `tail` holds when it was cut).
    pub total: usize,
}

/// Runs `program` to its end; success is exit status 0. `limit` bounds each captured stream.
pub async fn run(program: &Program, limit: usize) -> Result<(), ProcessError> {
    let name = program.argv.first().cloned().unwrap_or_default();
    let mut child = spawn(program).map_err(|source| ProcessError::Spawn {
        program: name.clone(),
        source,
    })?;
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let finished = async {
        let (out, err, status) = tokio::join!(
            read_tail(stdout, limit),
            read_tail(stderr, limit),
            child.wait()
        );
        (out, err, status)
    };
    let Ok((stdout, stderr, status)) = tokio::time::timeout(program.timeout, finished).await else {
        kill_group(&mut child).await;
        tracing::warn!(
            program = name,
            timeout_ms = program.timeout.as_millis(),
            "killed after its timeout"
        );
        return Err(ProcessError::Timeout {
            program: name,
            timeout: program.timeout,
        });
    };
    let status = status.map_err(|source| ProcessError::Wait {
        program: name.clone(),
        source,
    })?;
    tracing::info!(program = name, %status, stdout = %stdout, stderr = %stderr, "process finished");
    if status.success() {
        return Ok(());
    }
    let output = if stderr.tail.trim().is_empty() {
        &stdout
    } else {
        &stderr
    };
    Err(ProcessError::Exit {
        program: name,
        status,
        output: last_chars(output.tail.trim(), REASON_OUTPUT),
    })
}

fn spawn(program: &Program) -> std::io::Result<Child> {
    let Some((first, rest)) = program.argv.split_first() else {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "empty argv",
        ));
    };
    let mut command = Command::new(first);
    command
        .args(rest)
        .envs(program.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own group, so that a timeout kills what it started too.
        .process_group(0)
        // A cancelled dispatch must not leave the child behind.
        .kill_on_drop(true);
    if let Some(cwd) = &program.cwd {
        command.current_dir(cwd);
    }
    command.spawn()
}

/// Kills the child's process group (the child leads it), then the child itself, and reaps it.
/// `kill(1)` does the group signal: std has no killpg and this crate forbids `unsafe`.
async fn kill_group(child: &mut Child) {
    if let Some(pid) = child.id() {
        let group = Command::new("kill")
            .args(["-s", "KILL", "--", &format!("-{pid}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .status();
        if let Err(err) = tokio::time::timeout(KILL_TIMEOUT, group).await {
            tracing::warn!(pid, error = %err, "killing the process group timed out");
        }
    }
    if let Err(err) = child.start_kill() {
        tracing::debug!(error = %err, "child already gone");
    }
    if tokio::time::timeout(KILL_TIMEOUT, child.wait())
        .await
        .is_err()
    {
        tracing::warn!("a killed process was not reaped in time");
    }
}

/// Reads a stream to its end, keeping its last `limit` bytes.
async fn read_tail(stream: Option<impl AsyncRead + Unpin>, limit: usize) -> Captured {
    let Some(mut stream) = stream else {
        return Captured::default();
    };
    let mut kept = Vec::new();
    let mut total = 0;
    let mut chunk = [0_u8; 8192];
    loop {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                total += n;
                kept.extend_from_slice(&chunk[..n]);
                // Trim in batches, not on every read.
                if kept.len() > limit.saturating_mul(2) {
                    kept.drain(..kept.len() - limit);
                }
            }
        }
    }
    if kept.len() > limit {
        kept.drain(..kept.len() - limit);
    }
    Captured {
        tail: String::from_utf8_lossy(&kept).into_owned(),
        total,
    }
}

impl fmt::Display for Captured {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let omitted = self.total.saturating_sub(self.tail.len());
        if omitted > 0 {
            write!(f, "[{omitted} earlier bytes omitted] ")?;
        }
        f.write_str(self.tail.trim_end())
    }
}

impl Retryable for ProcessError {
    /// A program that cannot start will not start on the next attempt either.
    fn is_transient(&self) -> bool {
        !matches!(self, ProcessError::Spawn { .. })
    }
}

fn last_chars(text: &str, max: usize) -> String {
    let count = text.chars().count();
    if count <= max {
        return text.to_owned();
    }
    let tail: String = text.chars().skip(count - max).collect();
    format!("…{tail}")
}

fn quote(output: &str) -> String {
    if output.is_empty() {
        String::new()
    } else {
        format!(": {output}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_the_tail_of_a_long_output_is_kept() {
        let data: Vec<u8> = (0..100_000_u32).map(|i| b'a' + (i % 26) as u8).collect();
        let captured = read_tail(Some(data.as_slice()), 100).await;
        assert_eq!(captured.total, 100_000);
        assert_eq!(captured.tail.as_bytes(), &data[data.len() - 100..]);
        assert!(
            captured
                .to_string()
                .starts_with("[99900 earlier bytes omitted] ")
        );
    }
}
