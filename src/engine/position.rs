//! Where an event's record sits in its source, as keyed state remembers it: the record that last
//! updated or notified a key, so that a record read again after a crash is recognized. Built from
//! the event's typed [`Origin`]; the batch element is left out, as every element of a record
//! commits together.

use crate::event::Origin;

/// At most this many source partitions are remembered per key; more would mean the key's records
/// come from more partitions than any topic semaphore reads has.
const MAX_PARTITIONS_PER_KEY: usize = 64;

/// Where a record sits in its source. A key remembers the record that last sent a notification for
/// it: after a crash that record is read again (its offset was not committed yet) and must send the
/// notification again, not find it already done in the restored state.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Position {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

impl Position {
    pub fn of(origin: &Origin) -> Position {
        Position {
            topic: origin.topic.clone(),
            partition: origin.partition,
            offset: origin.offset,
        }
    }

    /// Whether `origin` is this record; allocates nothing, as it runs for every event of a key.
    pub fn is_of(&self, origin: Option<&Origin>) -> bool {
        origin.is_some_and(|origin| {
            origin.offset == self.offset
                && origin.partition == self.partition
                && origin.topic == self.topic
        })
    }
}

/// One element of one record: a [`Position`] plus the element of a split batch.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Element {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub element: Option<usize>,
    /// [`Origin::posted`].
    #[serde(default, skip_serializing_if = "is_zero")]
    pub posted: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Element {
    pub fn of(origin: &Origin) -> Element {
        Element {
            topic: origin.topic.clone(),
            partition: origin.partition,
            offset: origin.offset,
            element: origin.batch_index,
            posted: origin.posted,
        }
    }

    fn order(&self) -> (i64, Option<usize>, u32) {
        (self.offset, self.element, self.posted)
    }

    fn same_partition(&self, origin: &Origin) -> bool {
        self.partition == origin.partition && self.topic == origin.topic
    }

    /// Whether `origin` is this element, or an earlier one of the same partition.
    fn covers(&self, origin: &Origin) -> bool {
        self.same_partition(origin) && order_of(origin) <= self.order()
    }

    pub fn is(&self, origin: Option<&Origin>) -> bool {
        origin.is_some_and(|origin| self.same_partition(origin) && order_of(origin) == self.order())
    }
}

fn order_of(origin: &Origin) -> (i64, Option<usize>, u32) {
    (origin.offset, origin.batch_index, origin.posted)
}

/// The last element a key counted, per source partition. A partition is read in offset order, so a
/// record at or before it was counted already: read again after a crash, it is not counted twice.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Counted(Vec<Element>);

impl Counted {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `true` and remembered when `origin` was not counted before; events without a record (offline
    /// or posted) always count.
    pub fn first_time(&mut self, origin: Option<&Origin>) -> bool {
        let Some(origin) = origin else { return true };
        if self.0.iter().any(|seen| seen.covers(origin)) {
            return false;
        }
        self.0.retain(|seen| !seen.same_partition(origin));
        if self.0.len() >= MAX_PARTITIONS_PER_KEY {
            self.0.remove(0);
        }
        self.0.push(Element::of(origin));
        true
    }
}
