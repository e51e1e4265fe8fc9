//! What the benchmarks share: reading a process's peak resident set from /proc.

/// The peak resident set (VmHWM) of `process` (`"self"` or a pid) so far, in KiB; 0 if unreadable.
pub fn peak_rss_kib(process: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{process}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
