//! Where an event's record sits in its source (`meta.topic`, `meta.partition`, `meta.offset`): what
//! keyed state remembers about the records that updated it, so that a record read again after a
//! crash is recognized. Reading it from `meta` is all this module does.

use jmespath::Rcvar;

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
    /// `meta.topic`, `meta.partition` and `meta.offset`, when the event came from a source.
    pub fn of(meta: &Rcvar) -> Option<Position> {
        let (topic, partition, offset) = parts(meta)?;
        Some(Position {
            topic: topic.to_owned(),
            partition,
            offset,
        })
    }

    /// Whether `meta` is this record's; allocates nothing, as it runs for every event of a key.
    pub fn is_of(&self, meta: &Rcvar) -> bool {
        parts(meta).is_some_and(|(topic, partition, offset)| {
            offset == self.offset && partition == self.partition && topic == self.topic
        })
    }
}

/// `meta.offset`, when the event came from a source.
pub fn offset_of(meta: &Rcvar) -> Option<i64> {
    parts(meta).map(|(_, _, offset)| offset)
}

fn parts(meta: &Rcvar) -> Option<(&str, i32, i64)> {
    let meta = meta.as_object()?;
    let topic = meta.get("topic")?.as_string()?;
    let partition = i32::try_from(meta.get("partition")?.as_number()? as i64).ok()?;
    Some((topic, partition, meta.get("offset")?.as_number()? as i64))
}
