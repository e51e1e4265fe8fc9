//! [`Secret`]: a string (API secret, SASL password) that must never be shown. It has no `Display`,
//! its `Debug` is redacted, and only code inside the crate can read the value, at the one place
//! that hands it to a client. It does not decide where secrets come from; the settings that hold
//! one do.

use std::convert::Infallible;
use std::fmt;

/// A secret value. `Debug` prints `<redacted>`; there is deliberately no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// Clap value parser, so that a secret flag is never held as a plain `String`.
    pub fn from_arg(value: &str) -> Result<Self, Infallible> {
        Ok(Self::new(value))
    }

    /// The value itself, for the one place that hands it to a client library.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret:?}"), "<redacted>");
        assert_eq!(format!("{:?}", Some(secret)), "Some(<redacted>)");
    }

    #[test]
    fn expose_returns_the_value_for_the_client() {
        assert_eq!(Secret::new("hunter2").expose(), "hunter2");
    }
}
