//! The names a condition may look up on the document itself (`event`, `vars`, ...): any other is a
//! load error with a hint at what was meant, above all `event.status == "down"`, where the double
//! quotes name a field instead of writing a string.

use jmespath::ast::Ast;

use super::expr::{CompileError, char_offset};

/// The top-level names of the document a condition is evaluated on.
pub const ROOTS: &[&str] = &["event", "events", "meta", "vars", "facts"];

/// A name looked up on the document itself must be one of `roots` ([`ROOTS`] for conditions). This catches typos and, above
/// all, `event.status == "down"`: in JMESPath double quotes name a field, so that compares with a
/// field `down` that never exists; a string is written `'down'`.
pub(super) fn check(source: &str, ast: &Ast, roots: &[&str]) -> Result<(), CompileError> {
    let mut fields = Vec::new();
    root_fields(ast, &mut fields);
    match fields
        .into_iter()
        .find(|(_, name)| !roots.contains(&name.as_str()))
    {
        None => Ok(()),
        Some((offset, name)) => {
            let hint = root_hint(&name, roots);
            let roots = roots.join(", ");
            Err(CompileError::UnknownRoot {
                offset: char_offset(source, offset),
                name,
                roots,
                hint,
            })
        }
    }
}

/// What the writer of an unknown root name most likely meant. A bare `true`, `false` or `null` is a
/// field name in JMESPath, and so is a double-quoted "string": each needs its own spelling.
fn root_hint(name: &str, roots: &[&str]) -> String {
    if let Some(root) = crate::condition::suggest::closest(name, roots) {
        return format!("; did you mean `{root}`?");
    }
    match name {
        "true" | "false" | "null" => {
            format!("; JMESPath writes the literal {name} in backticks: `{name}`")
        }
        "True" | "False" | "None" | "Null" | "TRUE" | "FALSE" | "NULL" => {
            let literal = match name.to_ascii_lowercase().as_str() {
                "none" => "null".to_owned(),
                lower => lower.to_owned(),
            };
            format!(
                "; JMESPath writes the literal {literal} in lowercase and backticks: `{literal}`"
            )
        }
        "env" if roots.contains(&"event") => {
            "; environment variables are not visible in conditions \
             (only in action templates, as `{{ env.NAME }}`): put the value in the ruleset's `vars`"
                .to_owned()
        }
        "meta" if !roots.contains(&"meta") => {
            "; a silence or inhibition matches the firing, not the \
             record's meta: match on `event`, `ruleset`, `rule` or `status`"
                .to_owned()
        }
        _ => format!("; for the string, write '{name}' in single quotes"),
    }
}

/// Collects the field names that are looked up on the root document rather than on a sub-value.
fn root_fields(ast: &Ast, out: &mut Vec<(usize, String)>) {
    match ast {
        Ast::Field { offset, name } => out.push((*offset, name.clone())),
        // `@.x` is `x`.
        Ast::Subexpr { lhs, rhs, .. } if matches!(**lhs, Ast::Identity { .. }) => {
            root_fields(rhs, out)
        }
        Ast::Subexpr { lhs, .. } | Ast::Projection { lhs, .. } => root_fields(lhs, out),
        Ast::Comparison { lhs, rhs, .. } | Ast::And { lhs, rhs, .. } | Ast::Or { lhs, rhs, .. } => {
            root_fields(lhs, out);
            root_fields(rhs, out);
        }
        Ast::Not { node, .. } | Ast::Flatten { node, .. } | Ast::ObjectValues { node, .. } => {
            root_fields(node, out)
        }
        Ast::Function { args, .. } | Ast::MultiList { elements: args, .. } => {
            args.iter().for_each(|arg| root_fields(arg, out));
        }
        Ast::MultiHash { elements, .. } => elements
            .iter()
            .for_each(|pair| root_fields(&pair.value, out)),
        // Filters and expression references run on each element, not on the document.
        Ast::Condition { .. }
        | Ast::Expref { .. }
        | Ast::Identity { .. }
        | Ast::Index { .. }
        | Ast::Literal { .. }
        | Ast::Slice { .. } => {}
    }
}
