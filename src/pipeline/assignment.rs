//! Which assignment of a partition the intake loop is in. A revoked partition's offsets are no
//! longer this member's to commit, so its bookkeeping goes; the partition's generation is bumped, so
//! work of the old assignment that finishes later (a shard's report, an action) is not counted for
//! the records read again after it is assigned back; and with durable state its keys leave its
//! shards (the new owner restores them from the changelog).

use super::offsets::Partition;
use super::{At, Run};

impl Run {
    /// Revoked partitions: their offsets are no longer ours to commit, work of their old
    /// assignment no longer counts, and (with durable state) their keys go.
    pub(super) fn forget_revoked(&mut self) {
        for partition in self.source.take_revoked() {
            self.tracker.forget(&partition);
            self.revocations += 1;
            self.generations.insert(partition.clone(), self.revocations);
            // Its new owner restores the state from the changelog.
            if self.durable.is_some() {
                self.shards.forget(&partition);
            }
        }
    }

    /// The assignment of `partition` records are read in now.
    pub(super) fn generation(&self, partition: &Partition) -> u64 {
        self.generations.get(partition).copied().unwrap_or(0)
    }

    pub(super) fn is_current(&self, at: &At) -> bool {
        self.generation(&at.partition) == at.generation
    }
}
