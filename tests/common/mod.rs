//! Helpers shared by the integration tests: the test broker's addresses (set by `scripts/test`),
//! fresh topics, keyed records and unique names. A missing broker address fails the test with
//! instructions; nothing is ever skipped. Test binaries each use a different part of it, hence the
//! `dead_code` allowance: what one binary leaves unused, another uses.
#![allow(dead_code)]

pub mod kafka;
pub mod run;
pub mod webhook;

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A name no other test, and no earlier run against the same broker, has used.
pub fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .subsec_nanos();
    let sequence = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{}-{nanos}-{sequence}", std::process::id())
}
