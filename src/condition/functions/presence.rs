//! `has`: whether a key or an index exists, which JMESPath cannot tell from a value that is null
//! (both read as `null`). Imported EDA conditions need it: in EDA a key holding null is defined.

use jmespath::{Rcvar, Variable};

use super::BadArgument;

/// `has(value, key)`: true when `value` is an object with `key` (a string), or an array with index
/// `key` (a number; negative counts from the end). Anything else is false, never an error.
pub(super) fn has(args: &[Rcvar]) -> Result<Variable, BadArgument> {
    let (Some(value), Some(key)) = (args.first(), args.get(1)) else {
        return Err(BadArgument::new(0, "a value and a key", "fewer arguments"));
    };
    let found = match (&**value, &**key) {
        (Variable::Object(map), Variable::String(key)) => map.contains_key(key),
        (Variable::Array(items), Variable::Number(index)) => index
            .as_i64()
            .filter(|i| {
                let len = items.len() as i64;
                (-len..len).contains(i)
            })
            .is_some(),
        _ => false,
    };
    Ok(Variable::Bool(found))
}

#[cfg(test)]
mod tests {
    use crate::condition::Expr;
    use serde_json::json;

    fn eval(expr: &str, doc: serde_json::Value) -> serde_json::Value {
        let compiled = Expr::compile(expr).expect("valid");
        let doc = std::sync::Arc::new(jmespath::Variable::try_from(&doc).expect("json"));
        serde_json::to_value(&*compiled.search(&doc).expect("evaluates")).expect("json")
    }

    #[test]
    fn a_key_holding_null_exists_and_a_missing_one_does_not() {
        let doc = json!({"event": {"n": null, "l": [1, 2], "s": "x"}});
        assert_eq!(eval("has(event, 'n')", doc.clone()), json!(true));
        assert_eq!(eval("has(event, 'missing')", doc.clone()), json!(false));
        assert_eq!(eval("has(event.s, 'n')", doc.clone()), json!(false));
        assert_eq!(eval("has(event.nothing, 'n')", doc.clone()), json!(false));
        assert_eq!(eval("has(event.l, `1`)", doc.clone()), json!(true));
        assert_eq!(eval("has(event.l, `-2`)", doc.clone()), json!(true));
        assert_eq!(eval("has(event.l, `2`)", doc.clone()), json!(false));
        assert_eq!(eval("has(event.l, `-3`)", doc), json!(false));
    }
}
