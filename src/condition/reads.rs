//! Which parts of the document an expression reads, found once at load by walking its syntax tree,
//! so that a payload can be decoded only that far ([`Needed`]). A chain of fields from the document
//! (`event.a.b`) reads a prefix; whatever then uses the value (a comparison, a function, an index,
//! a projection, truthiness) reads it whole. Anything that is not a chain of fields from the
//! document (`@`, `*`, `[]`, `keys(event)`, `event.a[0]`) reads whole the value it starts from, so
//! the walk errs towards reading more. It does not evaluate anything.

use jmespath::ast::Ast;

use crate::event::Needed;

/// What an expression evaluates to, as far as the document goes.
#[derive(Clone)]
enum Value<'a> {
    /// Exactly the document's value at this chain of fields, not read yet (only its place is
    /// known).
    At(Vec<&'a str>),
    /// Something computed (a literal, a comparison, a function's result, an element of a
    /// projection) from values already marked as read.
    Computed,
}

/// Adds to `needed` (over the document's top-level names) what `ast` reads when evaluated on the
/// document. The walk recurses as deep as the expression, which the compiler bounds
/// ([`super::expr::MAX_NESTING`], [`super::expr::MAX_OPERATORS`]).
pub(super) fn add(ast: &Ast, needed: &mut Needed) {
    let value = walk(ast, &Value::At(Vec::new()), needed);
    read(value, needed);
}

/// The value is used as a whole: its type, size or contents decide the result.
fn read(value: Value<'_>, needed: &mut Needed) {
    if let Value::At(path) = value {
        needed.require(path);
    }
}

fn walk<'a>(ast: &'a Ast, on: &Value<'a>, needed: &mut Needed) -> Value<'a> {
    match ast {
        Ast::Field { name, .. } => match on {
            Value::At(path) => {
                let mut path = path.clone();
                path.push(name);
                Value::At(path)
            }
            Value::Computed => Value::Computed,
        },
        Ast::Subexpr { lhs, rhs, .. } => {
            let lhs = walk(lhs, on, needed);
            walk(rhs, &lhs, needed)
        }
        Ast::Identity { .. } => on.clone(),
        Ast::Literal { .. } => Value::Computed,
        Ast::Index { .. } | Ast::Slice { .. } => {
            read(on.clone(), needed);
            Value::Computed
        }
        Ast::Comparison { lhs, rhs, .. } | Ast::And { lhs, rhs, .. } | Ast::Or { lhs, rhs, .. } => {
            for side in [lhs, rhs] {
                let value = walk(side, on, needed);
                read(value, needed);
            }
            Value::Computed
        }
        Ast::Condition {
            predicate, then, ..
        } => {
            for side in [predicate, then] {
                let value = walk(side, on, needed);
                read(value, needed);
            }
            Value::Computed
        }
        Ast::Not { node, .. } | Ast::Flatten { node, .. } | Ast::ObjectValues { node, .. } => {
            let value = walk(node, on, needed);
            read(value, needed);
            Value::Computed
        }
        // The right side runs on each element of the left, which is read whole.
        Ast::Projection { lhs, rhs, .. } => {
            let lhs = walk(lhs, on, needed);
            read(lhs, needed);
            walk(rhs, &Value::Computed, needed);
            Value::Computed
        }
        // A function sees its arguments whole; an expression reference (`&field` of `sort_by`) runs on
        // the elements of another argument, which is read whole already. No function sees the
        // document itself.
        Ast::Function { args, .. } | Ast::MultiList { elements: args, .. } => {
            for arg in args {
                let value = walk(arg, on, needed);
                read(value, needed);
            }
            Value::Computed
        }
        Ast::MultiHash { elements, .. } => {
            for pair in elements {
                let value = walk(&pair.value, on, needed);
                read(value, needed);
            }
            Value::Computed
        }
        Ast::Expref { ast, .. } => {
            walk(ast, &Value::Computed, needed);
            Value::Computed
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::condition::Expr;
    use crate::event::Needed;

    /// What `source` reads of `event`, as the sorted paths read whole (`*` for the whole event).
    fn event_reads(source: &str) -> Vec<String> {
        let mut needed = Needed::nothing();
        Expr::compile_with(source, &["window"])
            .expect("a valid expression")
            .add_reads(&mut needed);
        let mut paths = Vec::new();
        collect(&needed.field("event"), "event", &mut paths);
        paths
    }

    fn collect(needed: &Needed, at: &str, out: &mut Vec<String>) {
        match needed {
            Needed::Whole => out.push(at.to_owned()),
            Needed::Fields(fields) => {
                for (name, need) in fields {
                    collect(need, &format!("{at}.{name}"), out);
                }
            }
        }
    }

    #[test]
    fn field_chains_read_only_their_prefix() {
        assert_eq!(
            event_reads("event.a.b > `1` && event.c == vars.x || !(event.d.e)"),
            ["event.a.b", "event.c", "event.d.e"]
        );
        assert_eq!(
            event_reads("vars.x && facts.y && meta.topic"),
            [] as [&str; 0]
        );
        assert_eq!(event_reads("window.count > `3`"), [] as [&str; 0]);
        // `!` binds tighter than `.`: this is `(!event).d.e`, which reads the whole event.
        assert_eq!(event_reads("!event.d.e"), ["event"]);
    }

    #[test]
    fn indexes_functions_and_projections_read_their_whole_operand() {
        assert_eq!(event_reads("event.a.b[0] == `1`"), ["event.a.b"]);
        assert_eq!(event_reads("length(event.list) > `2`"), ["event.list"]);
        assert_eq!(
            event_reads("event.items[?x == `1`].y | length(@) > `0`"),
            ["event.items"]
        );
        assert_eq!(event_reads("event.a.*.b"), ["event.a"]);
        assert_eq!(
            event_reads("max_by(event.list, &size).name"),
            ["event.list"]
        );
        assert_eq!(
            event_reads("(event.a || event.b).c"),
            ["event.a", "event.b"]
        );
    }

    #[test]
    fn whatever_reads_the_event_itself_reads_all_of_it() {
        for source in [
            "event",
            "keys(event)",
            "to_string(event) != ''",
            "merge(event, `{}`).a",
            "event.*",
            "contains(values(event), `1`)",
            "@.event",
            "*",
            "@",
            "[event][0].a",
        ] {
            let reads = event_reads(source);
            assert_eq!(reads, ["event"], "{source}");
        }
    }

    #[test]
    fn everything_reads_the_whole_document_when_the_root_is_used() {
        let mut needed = Needed::nothing();
        Expr::compile("length(@) > `0`")
            .expect("valid")
            .add_reads(&mut needed);
        assert!(needed.is_whole());
    }
}
