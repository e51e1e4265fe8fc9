//! A record's value as an event payload: a JSON object, decoded whole or only as far as it is read.
//! Both ways accept and reject the same bytes with the same errors; which parts are read is the
//! caller's to say.

use std::sync::Arc;

use jmespath::{Rcvar, Variable};

use super::{DecodeError, Needed, json, prune};

/// A decoded payload, with its bytes when only part of it was built (to build the rest on demand).
pub type Decoded = (Rcvar, Option<Box<[u8]>>);

/// The payload, built as far as `reads` goes.
pub fn payload(payload: &[u8], reads: &Needed) -> Result<Decoded, DecodeError> {
    let Needed::Fields(fields) = reads else {
        return whole(payload).map(|whole| (Arc::new(whole), None));
    };
    // Checked first, so that the pruning parser may take the text as UTF-8; a full decode reports
    // invalid UTF-8 anywhere the same way (serde_json checks it as it parses).
    let text = std::str::from_utf8(payload).map_err(|utf8| DecodeError::NotUtf8 {
        valid_up_to: utf8.valid_up_to(),
    })?;
    match prune::from_str(text, fields) {
        Err(err) => Err(DecodeError::NotJson(err.to_string())),
        Ok(Err(found)) => Err(DecodeError::NotAnObject { found }),
        Ok(Ok(part)) => Ok((Arc::new(part), Some(payload.into()))),
    }
}

fn whole(payload: &[u8]) -> Result<Variable, DecodeError> {
    // serde_json checks UTF-8 as it parses; the separate check only names the failure.
    let payload = json::from_slice(payload).map_err(|err| match std::str::from_utf8(payload) {
        Err(utf8) => DecodeError::NotUtf8 {
            valid_up_to: utf8.valid_up_to(),
        },
        Ok(_) => DecodeError::NotJson(err.to_string()),
    })?;
    match not_an_object(&payload) {
        Some(found) => Err(DecodeError::NotAnObject { found }),
        None => Ok(payload),
    }
}

/// What a decoded payload is, when it is not an object.
fn not_an_object(payload: &Variable) -> Option<&'static str> {
    match payload {
        Variable::Object(_) => None,
        Variable::Null => Some("null"),
        Variable::Bool(_) => Some("a boolean"),
        Variable::Number(_) => Some("a number"),
        Variable::String(_) => Some("a string"),
        Variable::Array(_) => Some("a list"),
        Variable::Expref(_) => Some("an expression"),
    }
}
