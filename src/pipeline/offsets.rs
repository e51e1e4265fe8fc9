//! Which offset of each partition may be committed: a record is done when every action it fired has
//! finished or was dead-lettered, and an offset is committable only when it and every earlier record of
//! its partition are done. Pure bookkeeping; storing and committing is the caller's job.

use std::collections::{BTreeMap, HashMap};

/// A topic partition.
pub type Partition = (String, i32);

#[derive(Debug, Default)]
struct PartitionState {
    /// Offsets with work still outstanding, and how much.
    pending: BTreeMap<i64, usize>,
    /// The highest offset seen so far.
    highest: Option<i64>,
    /// The last "next offset" reported as committable, so that each is reported once.
    reported: Option<i64>,
}

impl PartitionState {
    /// The next offset to consume after the done prefix: what Kafka calls the committed offset.
    fn committable(&self) -> Option<i64> {
        match self.pending.keys().next() {
            Some(first_pending) => Some(*first_pending),
            None => self.highest.map(|highest| highest + 1),
        }
    }
}

/// Outstanding work per partition.
#[derive(Debug, Default)]
pub struct OffsetTracker {
    partitions: HashMap<Partition, PartitionState>,
}

impl OffsetTracker {
    /// Registers a record with `outstanding` pieces of work (0 when nothing fired).
    pub fn track(&mut self, partition: &Partition, offset: i64, outstanding: usize) {
        let state = self.partitions.entry(partition.clone()).or_default();
        state.highest = Some(state.highest.map_or(offset, |h| h.max(offset)));
        if outstanding > 0 {
            *state.pending.entry(offset).or_default() += outstanding;
        }
    }

    /// One piece of work for the record finished (succeeded, or was dead-lettered). Work for a
    /// partition that was revoked in between is ignored: its new owner replays the record.
    pub fn complete(&mut self, partition: &Partition, offset: i64) {
        let Some(state) = self.partitions.get_mut(partition) else {
            return;
        };
        if let Some(left) = state.pending.get_mut(&offset) {
            *left = left.saturating_sub(1);
            if *left == 0 {
                state.pending.remove(&offset);
            }
        }
    }

    /// Offsets that became committable since the last call: (partition, next offset to consume).
    pub fn take_committable(&mut self) -> Vec<(Partition, i64)> {
        let mut ready = Vec::new();
        for (partition, state) in &mut self.partitions {
            if let Some(next) = state.committable()
                && state.reported != Some(next)
            {
                state.reported = Some(next);
                ready.push((partition.clone(), next));
            }
        }
        ready.sort();
        ready
    }

    /// Forgets a partition (revoked): outstanding work for it no longer decides anything here.
    pub fn forget(&mut self, partition: &Partition) {
        self.partitions.remove(partition);
    }

    /// Pieces of work still outstanding, over all partitions.
    pub fn outstanding(&self) -> usize {
        self.partitions
            .values()
            .flat_map(|s| s.pending.values())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(n: i32) -> Partition {
        ("t".to_owned(), n)
    }

    #[test]
    fn a_slow_record_holds_back_later_ones() {
        let mut tracker = OffsetTracker::default();
        tracker.track(&p(0), 10, 1);
        tracker.track(&p(0), 11, 0);
        tracker.track(&p(0), 12, 2);
        assert_eq!(tracker.take_committable(), vec![(p(0), 10)]);
        tracker.complete(&p(0), 12);
        tracker.complete(&p(0), 12);
        assert_eq!(tracker.take_committable(), vec![]);
        tracker.complete(&p(0), 10);
        assert_eq!(tracker.take_committable(), vec![(p(0), 13)]);
        assert_eq!(tracker.outstanding(), 0);
    }

    #[test]
    fn partitions_are_independent_and_revoked_ones_forgotten() {
        let mut tracker = OffsetTracker::default();
        tracker.track(&p(0), 5, 1);
        tracker.track(&p(1), 7, 0);
        assert_eq!(tracker.take_committable(), vec![(p(0), 5), (p(1), 8)]);
        tracker.forget(&p(0));
        tracker.complete(&p(0), 5);
        assert_eq!(tracker.take_committable(), vec![]);
        assert_eq!(tracker.outstanding(), 0);
    }

    proptest! {
        /// Whatever order work finishes in, the committable offset never passes unfinished work and
        /// reaches the end once everything is done.
        #[test]
        fn never_commits_past_unfinished_work(work in prop::collection::vec(0usize..3, 1..60), seed in any::<u64>()) {
            let mut tracker = OffsetTracker::default();
            let mut open: Vec<i64> = Vec::new();
            for (offset, n) in work.iter().enumerate() {
                tracker.track(&p(0), offset as i64, *n);
                open.extend(std::iter::repeat_n(offset as i64, *n));
            }
            let mut state = seed | 1;
            while !open.is_empty() {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17;
                let done = open.swap_remove((state % open.len() as u64) as usize);
                tracker.complete(&p(0), done);
                for (_, next) in tracker.take_committable() {
                    prop_assert!(open.iter().all(|o| *o >= next), "committed {next} with {open:?} open");
                }
            }
            let last = work.len() as i64;
            let final_offset = tracker.take_committable().last().map(|(_, n)| *n);
            prop_assert!(final_offset.is_none_or(|n| n == last));
        }
    }
}
