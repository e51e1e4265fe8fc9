//! Query parameters as the simulator reads them: `name[]=v` arrays (URL-encoded brackets too, and a
//! bare `name`), ranges and enums checked with a 400 that names the parameter, and the time window
//! rules (`timespan` maxima, `timespan` not with `t0`/`t1`).

use chrono::{DateTime, Utc};

use super::paging::PageQuery;

/// A 400 message.
pub type Invalid = String;

/// The decoded query of one request, in order.
pub struct Params {
    pub pairs: Vec<(String, String)>,
}

/// A time window: `[start, end)` in Unix seconds.
pub struct Window {
    pub start: i64,
    pub end: i64,
}

impl Params {
    pub fn parse(query: Option<&str>) -> Self {
        let text = query.unwrap_or_default();
        let pairs = reqwest::Url::parse(&format!("http://query.invalid/?{text}"))
            .map(|url| {
                url.query_pairs()
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Self { pairs }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Every value of an array parameter, sent as `name[]` or `name`.
    pub fn list(&self, name: &str) -> Vec<&str> {
        let bracketed = format!("{name}[]");
        self.pairs
            .iter()
            .filter(|(key, _)| *key == bracketed || key == name)
            .map(|(_, value)| value.as_str())
            .collect()
    }

    pub fn integer(&self, name: &str, min: u64, max: u64, default: u64) -> Result<u64, Invalid> {
        let Some(text) = self.get(name) else {
            return Ok(default);
        };
        match text.parse::<u64>() {
            Ok(value) if (min..=max).contains(&value) => Ok(value),
            _ => Err(format!(
                "'{name}' must be an integer between {min} and {max}"
            )),
        }
    }

    pub fn one_of<'a>(
        &'a self,
        name: &str,
        allowed: &[&str],
        default: &'a str,
    ) -> Result<&'a str, Invalid> {
        let value = self.get(name).unwrap_or(default);
        if allowed.contains(&value) {
            Ok(value)
        } else {
            Err(format!("'{name}' must be one of: {}", allowed.join(", ")))
        }
    }

    /// `perPage` in the endpoint's range, and the tokens.
    pub fn page(&self, min: u64, max: u64, default: u64) -> Result<PageQuery, Invalid> {
        let per_page = self.integer("perPage", min, max, default)?;
        Ok(PageQuery {
            per_page: usize::try_from(per_page).unwrap_or(usize::MAX),
            starting_after: self.get("startingAfter").map(str::to_owned),
            ending_before: self.get("endingBefore").map(str::to_owned),
        })
    }

    /// The window of `timespan` (at most `max`, default `default` seconds) ending at `now`, or of
    /// `t0`/`t1`.
    pub fn window(&self, now: i64, max: f64, default: f64) -> Result<Window, Invalid> {
        let (t0, t1) = (self.get("t0"), self.get("t1"));
        if let Some(text) = self.get("timespan") {
            if t0.is_some() || t1.is_some() {
                return Err("'timespan' cannot be used together with 't0' or 't1'".to_owned());
            }
            let span: f64 = text
                .parse()
                .map_err(|_| "'timespan' must be a number".to_owned())?;
            if !(span > 0.0 && span <= max) {
                return Err(format!(
                    "'timespan' must be greater than 0 and less than or equal to {max} seconds"
                ));
            }
            return Ok(Window {
                start: now - span as i64,
                end: now,
            });
        }
        let start = t0.map(time).transpose()?;
        let end = t1.map(time).transpose()?.unwrap_or(now);
        let start = start.unwrap_or(end - default as i64);
        if start >= end || (end - start) as f64 > max {
            return Err(format!(
                "'t0' must be before 't1' and at most {max} seconds before it"
            ));
        }
        Ok(Window { start, end })
    }
}

/// An ISO 8601 time or epoch seconds.
fn time(text: &str) -> Result<i64, Invalid> {
    if let Ok(seconds) = text.parse::<i64>() {
        return Ok(seconds);
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc).timestamp())
        .map_err(|_| format!("invalid time {text:?}: expected ISO 8601 or epoch seconds"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_come_bracketed_encoded_or_bare() {
        let params = Params::parse(Some(
            "productTypes%5B%5D=appliance&productTypes[]=switch&productTypes=camera",
        ));
        assert_eq!(
            params.list("productTypes"),
            ["appliance", "switch", "camera"]
        );
    }

    #[test]
    fn ranges_and_windows_are_checked() {
        let params = Params::parse(Some("perPage=2&timespan=301"));
        assert!(params.page(3, 1000, 1000).is_err());
        assert!(params.window(1000, 300.0, 300.0).is_err());
        let params = Params::parse(Some("timespan=120&t0=5"));
        assert!(params.window(1000, 300.0, 300.0).is_err());
        let window = Params::parse(None)
            .window(1000, 300.0, 300.0)
            .expect("default");
        assert_eq!((window.start, window.end), (700, 1000));
    }
}
