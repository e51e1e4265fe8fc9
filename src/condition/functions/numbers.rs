//! Built-ins that jmespath 0.5 gets wrong, replaced by the JMESPath specification's behaviour.
//! `avg([])` is null in the specification; the crate's own `avg` fails on it ("Expected to be a valid
//! f64"), so `!avg(...)` and `avg(...) == null` could never match an empty list.

use jmespath::{Rcvar, Variable};
use serde_json::Number;

use super::BadArgument;

/// `avg(numbers)`: the mean, or null for an empty array (the signature has checked every element).
pub(super) fn avg(args: &[Rcvar]) -> Result<Variable, BadArgument> {
    let numbers = args
        .first()
        .and_then(|value| value.as_array())
        .ok_or_else(|| BadArgument::new(0, "array[number]", "another type"))?;
    if numbers.is_empty() {
        return Ok(Variable::Null);
    }
    let sum: f64 = numbers.iter().filter_map(|n| n.as_number()).sum();
    let mean = sum / numbers.len() as f64;
    // Only a sum past f64's range gets here; JSON has no infinity, so the mean is unknown.
    Number::from_f64(mean)
        .map(Variable::Number)
        .ok_or_else(|| BadArgument::new(0, "numbers whose sum is finite", "an overflowing sum"))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{error, eval};
    use serde_json::json;

    /// The specification's function reference: avg, min and max of [] are null, sum of [] is 0.
    #[test]
    fn aggregates_of_an_empty_array_are_as_the_specification_says() {
        let data = r#"{"none": [], "some": [1, 2, 4.5], "names": ["b", "a"]}"#;
        let cases = [
            ("avg(none)", json!(null)),
            ("!avg(none)", json!(true)),
            ("avg(none) == `null`", json!(true)),
            ("min(none)", json!(null)),
            ("max(none)", json!(null)),
            ("sum(none) == `0`", json!(true)),
            ("avg(some)", json!(2.5)),
            ("avg(`[5]`)", json!(5.0)),
            ("max(some)", json!(4.5)),
            ("min(names)", json!("a")),
        ];
        for (expression, expected) in cases {
            assert_eq!(eval(expression, data), expected, "{expression}");
        }
    }

    #[test]
    fn avg_keeps_its_signature() {
        let message = error("avg(names)", r#"{"names": ["a"]}"#);
        assert!(
            message.contains("Argument 0 expects type array[number]"),
            "{message}"
        );
        let huge = r#"{"big": [1e308, 1e308]}"#;
        assert!(error("avg(big)", huge).contains("overflowing sum"));
    }
}
