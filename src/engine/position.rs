//! Where an event's record sits in its source, as keyed state remembers it: the record that last
//! updated or notified a key, so that a record read again after a crash is recognized. Built from
//! the event's typed [`Origin`]; the batch element is left out, as every element of a record
//! commits together.

use crate::event::Origin;

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
