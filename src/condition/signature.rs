//! The signature of every function a condition can call: JMESPath's built-ins as the specification
//! states them, and semaphore's own (declared in `functions`). `rules check` holds each call to its
//! signature (how many arguments, the type of literal ones) and quotes it in the error.

use std::fmt;

use jmespath::functions::ArgumentType;

use super::functions;

/// JMESPath's built-in functions, as registered by `Runtime::register_builtin_functions`.
pub const BUILTINS: &[&str] = &[
    "abs",
    "avg",
    "ceil",
    "contains",
    "ends_with",
    "floor",
    "join",
    "keys",
    "length",
    "map",
    "max",
    "max_by",
    "merge",
    "min",
    "min_by",
    "not_null",
    "reverse",
    "sort",
    "sort_by",
    "starts_with",
    "sum",
    "to_array",
    "to_number",
    "to_string",
    "type",
    "values",
];

/// What a function accepts after its fixed arguments.
#[derive(Debug, Clone, PartialEq)]
pub enum Rest {
    Nothing,
    /// One more argument may follow (`regex_match`'s ignore-case flag).
    Optional(ArgumentType),
    /// Any number of further arguments (`merge`, `not_null`).
    Variadic(ArgumentType),
}

/// A function's name, fixed argument types and what may follow them.
#[derive(Debug, Clone, PartialEq)]
pub struct Signature {
    pub name: String,
    pub inputs: Vec<ArgumentType>,
    pub rest: Rest,
}

impl Signature {
    /// The signature of a built-in or custom function; `None` for an unknown name.
    pub fn of(name: &str) -> Option<Signature> {
        let (inputs, rest) = builtin(name).or_else(|| functions::signature(name))?;
        Some(Signature {
            name: name.to_owned(),
            inputs,
            rest,
        })
    }

    /// The type argument `index` (0-based) must have; `None` past the last one allowed.
    pub fn expected(&self, index: usize) -> Option<&ArgumentType> {
        match (self.inputs.get(index), &self.rest) {
            (Some(fixed), _) => Some(fixed),
            (None, Rest::Variadic(more)) => Some(more),
            (None, Rest::Optional(last)) if index == self.inputs.len() => Some(last),
            (None, _) => None,
        }
    }

    /// Why `given` arguments are not a valid call, in words; `None` when they are.
    pub fn arity_error(&self, given: usize) -> Option<String> {
        let fixed = self.inputs.len();
        let (fits, takes) = match &self.rest {
            Rest::Nothing if fixed == 0 => (given == 0, "no arguments".to_owned()),
            Rest::Nothing => (given == fixed, count(fixed)),
            Rest::Optional(_) => (
                given == fixed || given == fixed + 1,
                format!("{fixed} or {}", count(fixed + 1)),
            ),
            Rest::Variadic(_) => (given >= fixed, format!("at least {}", count(fixed))),
        };
        let name = &self.name;
        (!fits).then(|| format!("`{name}()` takes {takes}, given {given}: {self}"))
    }
}

fn count(n: usize) -> String {
    format!("{n} argument{}", if n == 1 { "" } else { "s" })
}

/// `length(array|object|string)`, `regex_match(string, string[, boolean])`, `merge(object...)`.
impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inputs: Vec<String> = self.inputs.iter().map(type_name).collect();
        write!(f, "{}({}", self.name, inputs.join(", "))?;
        let separator = if inputs.is_empty() { "" } else { ", " };
        match &self.rest {
            Rest::Nothing => {}
            Rest::Optional(last) => write!(f, "[{separator}{}]", type_name(last))?,
            Rest::Variadic(more) => write!(f, "{separator}{}...", type_name(more))?,
        }
        f.write_str(")")
    }
}

/// A type as the JMESPath specification writes it, with `&expression` for an expression reference.
pub fn type_name(kind: &ArgumentType) -> String {
    match kind {
        ArgumentType::Expref => "&expression".to_owned(),
        ArgumentType::TypedArray(element) => format!("array[{}]", type_name(element)),
        ArgumentType::Union(kinds) => kinds.iter().map(type_name).collect::<Vec<_>>().join("|"),
        other => other.to_string(),
    }
}

/// The built-ins' signatures, from the JMESPath specification's function reference.
fn builtin(name: &str) -> Option<(Vec<ArgumentType>, Rest)> {
    use ArgumentType::{Any, Array, Expref, Number, Object, String as Text};
    let numbers = || ArgumentType::TypedArray(Box::new(Number));
    let strings = || ArgumentType::TypedArray(Box::new(Text));
    let sortable = || ArgumentType::Union(vec![numbers(), strings()]);
    let one = |kind| Some((vec![kind], Rest::Nothing));
    let two = |first, second| Some((vec![first, second], Rest::Nothing));
    match name {
        "abs" | "ceil" | "floor" => one(Number),
        "avg" | "sum" => one(numbers()),
        "contains" => two(ArgumentType::Union(vec![Array, Text]), Any),
        "ends_with" | "starts_with" => two(Text, Text),
        "join" => two(Text, strings()),
        "keys" | "values" => one(Object),
        "length" => one(ArgumentType::Union(vec![Array, Object, Text])),
        "map" => two(Expref, Array),
        "max" | "min" | "sort" => one(sortable()),
        "max_by" | "min_by" | "sort_by" => two(Array, Expref),
        "merge" => Some((vec![Object], Rest::Variadic(Object))),
        "not_null" => Some((vec![Any], Rest::Variadic(Any))),
        "reverse" => one(ArgumentType::Union(vec![Array, Text])),
        "to_array" | "to_number" | "to_string" | "type" => one(Any),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::condition::expr::RUNTIME;
    use crate::condition::functions::CUSTOM_FUNCTIONS;

    #[test]
    fn every_registered_function_has_a_signature() {
        for name in BUILTINS.iter().chain(CUSTOM_FUNCTIONS) {
            assert!(Signature::of(name).is_some(), "{name}");
            assert!(RUNTIME.get_function(name).is_some(), "{name}");
        }
        assert_eq!(Signature::of("lenght"), None);
    }

    #[test]
    fn signatures_render_as_the_specification_writes_them() {
        let rendered = |name| Signature::of(name).map(|s| s.to_string());
        assert_eq!(
            rendered("length").as_deref(),
            Some("length(array|object|string)")
        );
        assert_eq!(
            rendered("sort_by").as_deref(),
            Some("sort_by(array, &expression)")
        );
        assert_eq!(
            rendered("max").as_deref(),
            Some("max(array[number]|array[string])")
        );
        assert_eq!(
            rendered("merge").as_deref(),
            Some("merge(object, object...)")
        );
        assert_eq!(
            rendered("regex_match").as_deref(),
            Some("regex_match(string, string[, boolean])")
        );
        assert_eq!(rendered("now").as_deref(), Some("now()"));
    }

    #[test]
    fn arity_is_checked_against_fixed_optional_and_variadic_arguments() {
        let arity = |name, given| Signature::of(name).and_then(|s| s.arity_error(given));
        assert_eq!(
            arity("contains", 1).as_deref(),
            Some("`contains()` takes 2 arguments, given 1: contains(array|string, any)")
        );
        assert_eq!(arity("contains", 2), None);
        assert_eq!(arity("regex_match", 3), None);
        assert!(arity("regex_match", 4).is_some_and(|m| m.contains("takes 2 or 3 arguments")));
        assert_eq!(arity("merge", 5), None);
        assert!(arity("merge", 0).is_some_and(|m| m.contains("takes at least 1 argument,")));
        assert!(arity("now", 1).is_some_and(|m| m.contains("takes no arguments, given 1")));
        assert!(arity("length", 2).is_some_and(|m| m.contains("takes 1 argument, given 2")));
    }

    #[test]
    fn expected_types_follow_the_argument_position() {
        let regex = Signature::of("regex_match").expect("known");
        assert_eq!(regex.expected(2), Some(&ArgumentType::Bool));
        assert_eq!(regex.expected(3), None);
        let merge = Signature::of("merge").expect("known");
        assert_eq!(merge.expected(7), Some(&ArgumentType::Object));
    }
}
