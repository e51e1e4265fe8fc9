//! Named async locks, created on first use and forgotten once nobody holds or waits for them, so
//! that lock names taken from events (`lock: "{{ event.serial }}"`) do not pile up. The dispatcher
//! uses one set for sequential rulesets and one for action `lock` values. Waiting is FIFO (tokio's
//! mutex is fair), so firings sharing a name run in the order they asked.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

/// A set of named locks.
#[derive(Debug, Default)]
pub struct KeyedLocks {
    entries: Mutex<HashMap<String, Arc<AsyncMutex<()>>>>,
}

/// Holds the lock of one name until dropped.
#[derive(Debug)]
pub struct KeyGuard<'a> {
    locks: &'a KeyedLocks,
    key: String,
    guard: Option<OwnedMutexGuard<()>>,
}

impl KeyedLocks {
    /// Waits for the lock named `key`.
    pub async fn lock(&self, key: &str) -> KeyGuard<'_> {
        let entry = {
            let mut entries = self.entries();
            // Entries nobody refers to any more, left by waits that were cancelled.
            entries.retain(|_, entry| Arc::strong_count(entry) > 1);
            Arc::clone(entries.entry(key.to_owned()).or_default())
        };
        KeyGuard {
            locks: self,
            key: key.to_owned(),
            guard: Some(entry.lock_owned().await),
        }
    }

    /// Names currently held or waited for.
    pub fn len(&self) -> usize {
        self.entries().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<AsyncMutex<()>>>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for KeyGuard<'_> {
    fn drop(&mut self) {
        let mut entries = self.locks.entries();
        // Release first, then see whether anyone else still refers to the entry (holders and
        // waiters own a reference each; the map's is the one left when nobody does). Doing both
        // under the map lock keeps a new waiter from cloning the entry in between.
        self.guard.take();
        if entries
            .get(&self.key)
            .is_some_and(|entry| Arc::strong_count(entry) == 1)
        {
            entries.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn names_are_forgotten_when_released_and_when_a_wait_is_cancelled() {
        let locks = KeyedLocks::default();
        let held = locks.lock("a").await;
        assert_eq!(locks.len(), 1);
        let waited = tokio::time::timeout(Duration::from_millis(20), locks.lock("a")).await;
        assert!(waited.is_err(), "the lock is held");
        drop(held);
        assert!(locks.is_empty(), "no holder and no waiter left");
        let _b = locks.lock("b").await;
        assert_eq!(locks.len(), 1);
    }
}
