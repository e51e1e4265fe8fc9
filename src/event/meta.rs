//! The metadata of a Kafka record as the transport gives it, and as the `meta` value conditions
//! and templates read. It owns no decoding of payloads.

use std::collections::BTreeMap;
use std::sync::Arc;

use jmespath::Variable;

/// The metadata of a Kafka record.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Meta {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub key: Option<String>,
    /// Record timestamp, milliseconds since the epoch.
    pub timestamp: Option<i64>,
    pub headers: BTreeMap<String, String>,
}

impl Meta {
    /// Built field by field: this runs for every record, and going through serde costs more.
    pub fn to_variable(&self) -> Variable {
        let string = |s: &str| Arc::new(Variable::String(s.to_owned()));
        let number = |n: i64| Arc::new(Variable::Number(n.into()));
        let headers = self
            .headers
            .iter()
            .map(|(name, value)| (name.clone(), string(value)))
            .collect();
        let fields = [
            ("topic", string(&self.topic)),
            ("partition", number(i64::from(self.partition))),
            ("offset", number(self.offset)),
            (
                "key",
                self.key
                    .as_deref()
                    .map_or_else(|| Arc::new(Variable::Null), string),
            ),
            (
                "timestamp",
                self.timestamp
                    .map_or_else(|| Arc::new(Variable::Null), number),
            ),
            ("headers", Arc::new(Variable::Object(headers))),
        ];
        Variable::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }
}
